## The staff console (crates/axum/templates/console/).

console-title = Staff console
console-find = Find an account
console-new-account = New account
console-signed-in-as = Signed in as
console-sign-in = Sign in
console-sign-out = Sign out
console-footer = staff console
console-skip = Skip to content
console-language = Language

## Sign-in
console-sign-in-heading = Staff sign-in
console-sign-in-unknown = This is not a staff token of this portal: check it (it was printed when the portal started, or given by whoever runs it) and try again.
console-sign-in-lead = Sign in once with your staff token; the console then remembers you in this browser until you sign out.
console-sign-in-token = Staff token

## Find
console-find-heading = Find a client's portal account
console-find-label = Email, username or contact reference
console-find-button = Find
console-find-matching = Accounts matching “{ $q }” (page { $page })
console-find-all = All accounts, newest first (page { $page })
console-col-client = Client
console-col-username = Username
console-col-contact = Contact
console-col-status = Status
console-none-yet = none yet
console-previous = Previous page
console-next = Next page
console-nothing-matches = No account matches “{ $q }”: check the spelling, or
console-nothing-create = create the account
console-no-account-yet = No portal account yet:
console-create-first = create the first one

## Badges
badge-archived = Archived
badge-access-on = Access on
badge-access-off = Access off
badge-accepted = Accepted
badge-pending = Invited, pending
badge-not-invited = Not invited
badge-must-change = Must change password

## New account
console-new-heading = New portal account
console-new-email = Client's email address
console-new-name = Name (used in mail)
console-new-contact = Contact reference in your CRM
console-new-invite = Send the invitation now (the client chooses a username and password)
console-new-create = Create
console-new-create-invite = Create and invite

## The account page
console-done-created-invited = The account was created and the invitation is on its way: follow it in the timeline below.
console-done-created = The account was created.
console-done-invitation = The invitation is on its way: follow it in the timeline below.
console-done-reinvitation = A new invitation is on its way; the old link no longer works.
console-done-password-reset = The reset link is on its way: follow it in the timeline below.
console-done-password = The password was set. Tell the client through a safe channel; every session and pending link was ended.
console-done-access-enabled = Portal access is on: the client can sign in.
console-done-access-disabled = Portal access is off: the client cannot sign in, even with the right password.
console-done-archived = The account is archived.
console-done-unarchived = The account is back from the archive.
console-done-email = The email address was changed; a notice went to the old and the new address.
console-done-verified = You passed the check: you can send the reset link again.
console-done-mfa-reset = The second factor was reset: every session and remembered device was ended and the client was told. At the next sign-in they set one up again.
console-access-heading = Client portal access
console-email = Email address
console-username = Username
console-username-chosen = (chosen by the client; only they can change it)
console-username-none = (the client chooses it when accepting the invitation)
console-contact-ref = Contact reference
console-access = Access
console-access-on = On
console-access-on-says = the client can sign in
console-access-off = Off
console-access-off-says = the client cannot sign in
console-invitation = Invitation
console-invitation-pending-badge = Pending
console-invitation-pending = sent { $sent }, link valid until { $expires }
console-archived = Archived
console-no = No
console-password = Password
console-password-set = Set
console-password-must-change = must change at next sign-in
console-password-not-set = not set
console-last-sign-in = Last sign-in
console-never = never
console-mfa = Second factor
console-mfa-totp = Authenticator app
console-mfa-email = Codes by email
console-mfa-since = since { $at }
console-mfa-none = none
console-mfa-policy = (firm policy: { $policy })
console-actions = Actions
console-send-invitation = Send invitation
console-resend-invitation = Resend invitation
console-send-reset = Send reset link
console-access-turn-off = Turn access off
console-access-turn-on = Turn access on
console-archive = Archive
console-unarchive = Unarchive
console-mfa-reset = Reset second factor
console-mfa-reset-help = For a client who lost their phone: check who is calling first.
console-set-password-heading = Set a password by hand
console-set-password-aside = Prefer the reset link: a password you set must reach the client through a safe channel.
console-new-password = New password
console-password-hint = At least { $min } characters.
console-password-again = The same password again
console-must-change = The client must choose a new password at next sign-in
console-set-password = Set password
console-change-email-heading = Change the email address
console-new-email-address = New email address
console-change-email = Change email address
console-language-of-mail = Language of the client's mail and pages
console-language-save = Save language

## Timeline
console-timeline-heading = Mail sent to the client
console-mail-invitation = Invitation
console-mail-reinvitation = New invitation
console-mail-password-reset = Reset link
console-mail-password-changed = Password changed notice
console-mail-username-changed = Username changed notice
console-mail-email-changed = Email changed notice
console-mail-account-secured = Account secured notice
console-mail-sign-in-code = Sign-in code
console-mail-other = Notice
console-mail-to = to { $to }
console-queued = queued { $at }
console-sent = sent { $at }
console-retrying = retrying (attempt { $attempts }, next { $next })
console-last-error = last error “{ $error }”
console-failed = failed { $at }
console-failed-advice = check the address, then send it again
console-superseded = not sent: its link was replaced first
console-waiting = waiting to be sent
console-link-opened = link opened { $at }
console-link-from = from { $ip }
console-link-used = link used { $at }
console-link-replaced = link replaced { $at }
console-link-expired = link expired { $at }
console-link-valid = link valid until { $at }
console-no-mail = No mail yet.

## Audit events
console-events-heading = What happened
console-col-when = When
console-col-what = What
console-col-who = Who
console-col-from = From
console-by-staff = staff { $id }
console-by-client = the client
console-by-portal = the portal
console-nothing-yet = Nothing yet.

## Refusals: what to do
advice-invitation-pending = The invitation has not been accepted yet: resend it.
advice-invitation-pending-reset = A reset link only works once the client has chosen a username and password.
advice-not-invited = This client was never invited: send the invitation first.
advice-account-archived = The account is archived: unarchive it first.
advice-access-disabled = Portal access is turned off for this client: turn it on first, then try again.
advice-mailer = No mail server is configured, so no mail can be sent: ask whoever runs the portal to configure one (portal-server: --smtp-url), or set a password by hand below.
advice-verify-before = You sent many reset links in a short time:
advice-verify-link = pass the human verification
advice-verify-after = , then send the reset link again.
advice-captcha-failed = The check was not passed: try it again.
advice-password-rejected = This password is not strong enough: choose another.
advice-password-mismatch = The two passwords differ: type the same password twice.
advice-email-taken = Another account of your firm already has this address: find that account and use it, or choose another address.
advice-rate-limited = Too many attempts in a short time: wait a few minutes and try again.
advice-already-accepted = The client already accepted the invitation: if they cannot sign in, send them a reset link.
advice-bad-email = This is not an email address we can send to: check it and try again.
advice-check-incomplete = The check did not complete:
advice-check-none = no CAPTCHA provider is configured here.
advice-check-tick = tick the box of the check, then send the form.
advice-other = That did not work: { $message }. Reload the page and try again.
advice-nothing-to-reset = This client has no second factor to reset.

## Error pages
console-stale-heading = Someone else changed this account
console-stale = Another staff member (or the client) changed this account after you opened it, so nothing was changed. Look at the account as it is now, then do it again if it is still needed.
console-not-found-heading = No such account
console-not-found = There is no portal account here with this id in your firm:
console-not-found-find = find it by email, username or contact reference
console-csrf-heading = Please try again
console-csrf = This form expired or was sent from another site, so nothing was changed: go back, reload the page and send it again.
console-error-heading = That did not work
console-error = The form could not be read ({ $message }), so nothing was changed: go back, reload the page and send it again.
console-open-account = Open the account as it is now

## Human verification
console-verify-heading = Human verification
console-verify-lead = You sent many reset links in a short time. Pass this check once to go on sending them; you do not need to change your own password.
console-verify-continue = Continue
console-verify-js = The check needs JavaScript from the provider ({ $provider }); everything else in the console works without it.
console-verify-none = No CAPTCHA is configured for this portal, so the check cannot be passed here: ask whoever runs the portal to configure one (portal-server: --captcha-provider, --captcha-secret and --captcha-site-key), or wait until your limit of reset links starts again.
console-back-to-account = Back to the account

## Dates and times: { $month } is the month's name below.
datetime = { $month } { $day }, { $year }, { $hour12 }:{ $minute } { $ampm } { $zone }
month-1 = Jan
month-2 = Feb
month-3 = Mar
month-4 = Apr
month-5 = May
month-6 = Jun
month-7 = Jul
month-8 = Aug
month-9 = Sep
month-10 = Oct
month-11 = Nov
month-12 = Dec

## Audit event kinds
event-account-created = Account created
event-invitation-sent = Invitation sent
event-invitation-resent = Invitation sent again
event-invitation-accepted = Invitation accepted
event-fresh-invitation-requested = Fresh invitation asked for
event-password-reset-sent = Reset link sent
event-password-reset = Password reset with a link
event-password-set-by-staff = Password set by staff
event-password-changed = Password changed
event-access-enabled = Access turned on
event-access-disabled = Access turned off
event-archived = Archived
event-unarchived = Unarchived
event-username-changed = Username changed
event-email-changed = Email address changed
event-signed-in = Signed in
event-sign-in-failed = Sign-in failed
event-signed-out = Signed out
event-account-secured = Account secured (“this wasn't me”)
event-link-opened = Link opened
event-human-verification-passed = Human verification passed
event-second-factor-challenged = Second factor asked for
event-second-factor-failed = Second factor wrong
event-email-code-sent = Sign-in code sent
event-factor-added = Second factor added
event-factor-removed = Second factor removed
event-recovery-codes-generated = Recovery codes made
event-recovery-code-used = Recovery code used
event-mfa-reset = Second factor reset by staff
event-sessions-revoked = Sessions ended
event-devices-forgotten = Remembered devices forgotten
