## The client portal's pages (crates/axum/templates/*.html).

## The frame (layout.html)
portal-skip = Skip to content
portal-your-account = Your account
portal-home = Home
portal-username = Username
portal-password = Password
portal-security = Security
portal-sign-out = Sign out
portal-language = Language

## Shared words
portal-email = Email address
portal-current-password = Current password
portal-new-password = New password
portal-repeat-new-password = Repeat the new password
portal-password-hint = At least { $min } characters. A few unrelated words make a strong password that is easy to remember.
portal-username-hint = 3 to 32 characters: letters, digits, dots, dashes and underscores.
portal-start-again = Start again
portal-cancel = Cancel
portal-change = Change
portal-totp = Authenticator app
portal-email-code = Codes by email
portal-code-from-app = Code from your authenticator app
portal-six-digits = 6 digits.
portal-back-to-sign-in = Back to sign in
portal-check-email = Check your email

## Sign-in (sign_in.html)
sign-in-title = Sign in
sign-in-expired = Your sign-in expired or too many codes were wrong. Sign in again.
sign-in-login = Username or email address
sign-in-button = Sign in
sign-in-forgot = Forgot your password?

## Forgot password (forgot_password.html)
forgot-title = Forgot your password?
forgot-lead = Enter the email address of your portal account. We will send a link to set a new password.
forgot-button = Send me a link

## Reset password (reset_password.html)
reset-title = Choose a new password
reset-lead = For the portal account of
reset-button = Set password and sign in

## Invitation (invitation.html)
invitation-title = Set up your portal account
invitation-lead-before = You were invited to the portal as
invitation-lead-after = Choose a username and a password.
invitation-username-hint = 3 to 32 characters: letters, digits, dots, dashes and underscores. You can also sign in with your email address.
invitation-repeat-password = Repeat the password
invitation-button = Create my account

## A link that no longer works (link_invalid.html)
link-invalid-title = This link no longer works
link-invalid-invitation = Invitation links work once and for a limited time, and only the most recent invitation counts.
link-invalid-fresh-button = Send me a fresh invitation
link-invalid-fresh-where = It goes to the email address your firm has on file.
link-invalid-ask-firm = Ask your firm to send you a new invitation. If you already set up your account,
link-invalid-sign-in = sign in
link-invalid-not-me = This link was already used or has expired.
link-invalid-not-me-advice = If you think someone else has your password,
link-invalid-set-new = set a new one
link-invalid-tell-firm = and tell your firm.
link-invalid-password = Password links work once and for a limited time, and only the most recent one counts.
link-invalid-new-link = Send me a new link

## Home (home.html)
home-title = Your account
home-done-password = Your password was changed. Other devices were signed out.
home-done-username = Your username was changed.
home-done-signed-in = You are signed in.
home-temporary-password = Your firm set a temporary password for you.
home-choose-own = Choose your own password
home-to-continue = to continue.
home-username-none = none yet
home-username-none-says = you sign in with your email address
home-second-factor = Second factor
home-factor-none = none
home-manage = Manage
home-change-email = To change your email address, contact your firm.

## Username (username.html)
username-title = Change your username
username-is = Your username is
username-none = You have no username yet.
username-new = New username
username-save = Save username

## Password (password.html)
password-title = Change your password
password-temporary = Your firm set a temporary password for you. Choose your own password to continue.
password-button = Change password
password-signs-out = Changing your password signs you out everywhere else.

## "This wasn't me" (not_me.html)
not-me-title = Secure your account
not-me-heading = Wasn't you?
not-me-lead-before = If you did not change the password of
not-me-lead-after = , secure your account now.
not-me-what = This signs out every device, removes the current password and tells your firm. You can then set a new password with a link sent to your email address.
not-me-button = Secure my account
not-me-if-you = If it was you, there is nothing to do:
not-me-go-home = go to your account

## The second factor of a sign-in (second_factor.html)
second-factor-title = Confirm it is you
second-factor-sent = A sign-in code is on its way to your email address. It works once, for 10 minutes.
second-factor-recovery-lead = Enter one of the recovery codes you saved when you set up your second factor. Each code works once.
second-factor-recovery-code = Recovery code
second-factor-recovery-hint = 10 letters and digits.
second-factor-email-lead = Enter the 6-digit code we emailed you.
second-factor-email-code = Code from the email
second-factor-totp-lead = Open your authenticator app and enter the 6-digit code it shows for this portal.
second-factor-totp-hint = 6 digits. A new code appears every 30 seconds.
second-factor-remember = Remember this device for { $days } days
second-factor-remember-hint = Only on a device you alone use. You can forget it any time on your security page.
second-factor-continue = Continue
second-factor-use-totp = Use your authenticator app
second-factor-email-me = Email me a code
second-factor-email-me-again = Email me a new code
second-factor-use-recovery = Use a recovery code

## Enrolment a policy requires (enrol.html)
enrol-title = Set up a second factor
enrol-lead = Your firm asks every client to confirm their sign-in with a second factor. Set one up to continue: you will not be signed in before.
enrol-totp-heading = An authenticator app
enrol-totp-says = Use an app such as Google Authenticator, Microsoft Authenticator or 1Password: it shows a new code every 30 seconds.
enrol-totp-button = Set up an authenticator app
enrol-email-says = We email you a 6-digit code each time you sign in. Enter your password again to choose this.
enrol-your-password = Your password
enrol-email-button = Use codes by email

## The authenticator app (totp.html)
totp-title = Set up your authenticator app
totp-step-open = Open your authenticator app and add an account.
totp-step-scan = Scan this QR code:
totp-step-or-type = or type this key:
totp-step-type = Type this key:
totp-step-enter = Enter the 6-digit code the app now shows.
totp-confirm = Confirm

## Recovery codes (recovery_codes.html)
codes-title = Save your recovery codes
codes-lead = If you lose your phone, each of these codes lets you sign in once instead of a code from your app.
codes-keep = Print them or keep them in your password manager.
codes-once = They are shown only this once
codes-new = ; you can make new ones on the security page (the old ones then stop working).
codes-saved = I have saved them

## Sign-in security (security.html)
security-title = Sign-in security
security-done-totp = Your authenticator app is set up. Keep your recovery codes safe.
security-done-email = You will get a code by email when you sign in.
security-done-removed = The factor was removed.
security-policy-required = Your firm requires a second factor at sign-in.
security-policy-soon = Your firm will soon require a second factor at sign-in: set one up now.
security-policy-optional = A second factor keeps your account safe even if your password leaks.
security-factors = Your factors
security-added = added { $at }
security-last-used = last used { $at }
security-codes-left = Recovery codes left:
security-no-factor = No second factor yet.
security-add-totp = Add an authenticator app
security-email-button = Get sign-in codes by email
security-remove-heading = Remove a factor or make new recovery codes
security-remove-totp = Remove the authenticator app
security-remove-email = Remove codes by email
security-new-codes = Make new recovery codes
security-sessions = Where you are signed in
security-done-session = That session was ended: that browser must sign in again.
security-done-others = Every other session was ended.
security-not-yours = That session or device is not one of yours, or it already ended.
security-browser-on = { $browser } on { $os }
security-unknown-browser = Unknown browser
security-unknown-os = an unknown system
security-unknown-location = unknown location
security-this-browser = This browser
security-signed-in-at = signed in { $at }
security-last-seen = last seen { $at }
security-end-session = Sign out this session
security-end-others = Sign out every other session
security-devices = Remembered devices
security-done-device = That device will be asked for a second factor again.
security-done-devices = Every device will be asked for a second factor again.
security-devices-lead = These browsers skip the second factor when you sign in, until the date shown.
security-remembered = remembered { $at }
security-until = until { $at }
security-forget = Forget this device
security-forget-all = Forget every device
security-no-device = No remembered device. Tick "Remember this device" when you enter a code to skip the second factor on a browser you alone use for { $days } days.
security-back = Back to your account

## Messages (message.html)
message-signed-out-title = Signed out
message-signed-out = You are signed out.
message-sign-in-again = Sign in again
message-reset-sent = If a portal account uses this address, a message is on its way to it.
message-reset-link = It holds a link to set a new password. The link works once, for a limited time.
message-reset-nothing = Nothing after a few minutes? Look in your spam folder, or ask your firm to check the address they have for you.
message-fresh-sent = If this invitation can be renewed, a fresh one is on its way to the address your firm has on file.
message-fresh-newest = Use the link in the newest message: earlier links stop working.
message-fresh-nothing = Nothing after a few minutes? Look in your spam folder, or ask your firm to send a new invitation.
message-secured-title = Your account is secured
message-secured = Every device was signed out and the password was removed. Your firm was told.
message-secured-next = To use the portal again, set a new password with a link sent to your email address.
message-set-new-password = Set a new password

## The error page (error.html)
error-csrf-title = Please try again
error-csrf = This form expired or was sent from another site. Go back, reload the page and send it again.
error-validation-title = The form could not be read
error-not-found-title = Page not found
error-not-found = There is no such page here.
error-other-title = Something is not right
error-other = Go back, reload the page and send the form again.

## The failure page (written without a template, since a template may be what failed)
failure-title = Something went wrong
failure-internal = Something went wrong on our side. Please try again in a moment.
failure-unavailable = The service is briefly unavailable and nothing was changed. Please try again in a moment.
failure-reference = Reference:
error-to-portal = Go to the portal

## Refusals next to a field: refusal-<the refusal's message key>, by default its code.
refusal-token-invalid = This link is no longer valid; ask for a new one.
refusal-password-rejected = This password cannot be used:
refusal-password-mismatch = The password and its confirmation differ.
refusal-username-invalid = This username cannot be used.
refusal-username-length = A username has 3 to 32 characters.
refusal-username-characters = A username may contain only letters, digits, '.', '_' and '-'.
refusal-username-taken = This username is taken; choose another.
refusal-email-taken = Another portal account of this firm already uses this email address.
refusal-invalid-credentials = The login or password is wrong.
refusal-current-password-wrong = The current password is wrong.
refusal-access-disabled = Portal access is turned off for this account; contact your firm.
refusal-account-archived = This portal account is archived; contact your firm.
refusal-not-invited = This account was never invited; contact your firm.
refusal-invitation-pending = The invitation is still pending; use the link in your invitation.
refusal-human-verification-required = Please complete the human verification.
refusal-captcha-failed = Please complete the human verification.
refusal-mailer-not-configured = Email is not available on this portal for now; contact your firm.
refusal-rate-limited = Too many attempts; try again later.
refusal-not-found = Not found.
refusal-unauthenticated = Please sign in.
refusal-sign-in-expired = Your sign-in expired; sign in again.
refusal-validation-failed = The form could not be read; reload the page and try again.
refusal-second-factor-invalid = That code is not valid; check it and try again.
refusal-second-factor-required = A second factor is required for this portal; add another before removing this one.
refusal-factor-not-allowed = This kind of second factor is not available on this portal.
refusal-nothing-to-confirm = There is no authenticator enrolment to confirm; start again.
refusal-factor-already-set-up = This second factor is already set up.
refusal-factor-not-set-up = This second factor is not set up.
refusal-choose-factor = Choose a factor to remove.
refusal-stale-version = The account changed in the meantime: nothing was changed. Reload the page and try again.
refusal-csrf-failed = This form expired or was sent from another site: reload the page and send it again.
refusal-service-unavailable = The portal is busy right now: try again in a moment.

## Why a password was refused (reason-<code>)
reason-too-short = Use at least { $min } characters.
reason-too-long = Use at most { $max } characters.
reason-common = This password is too common; choose another.
reason-same-as-username = The password cannot be your username.
reason-same-as-email = The password cannot be your email address.
