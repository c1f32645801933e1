## Mail to clients (crates/core/templates/mail/). Times come formatted
## for the language in the firm's time zone.

## Shared by every message
mail-hello = Hello,
mail-hello-name = Hello { $name },
mail-footer = This message was sent to { $email } by { $product }. Please do not reply to it.
mail-button-fallback = If the button does not work, copy this address into your browser:
mail-unknown = unknown
mail-fact-when = When
mail-fact-ip = IP address
mail-fact-location = Location
mail-fact-os = Operating system
mail-fact-browser = Browser
mail-fact-account = Account
mail-fact-account-id = Account id
mail-fact-from = From
mail-fact-to = To
mail-if-you = If this was you, there is nothing to do.
mail-not-me-heading = If this wasn't you, secure your account now.
mail-not-me-button = This wasn't me
mail-not-me-effect = This signs you out everywhere and blocks your password (the link works until { $expires }).
mail-codes-left = Recovery codes left: { $count }.

## Invitation and a new invitation
mail-invitation-subject = You're invited to { $product }
mail-invitation-preheader = Set up your { $product } account.
mail-invitation-intro = You have been invited to { $product }. To set up your account, choose a username and a password.
mail-invitation-button = Set up my account
mail-invitation-expiry = The link works once and until { $expires }. If it has expired, open it anyway: you can ask for a fresh invitation there.
mail-invitation-ignore = If you were not expecting this invitation, you can ignore this email.
mail-reinvitation-subject = Your new invitation to { $product }
mail-reinvitation-preheader = A new link to set up your { $product } account.
mail-reinvitation-intro = Here is a new invitation to { $product }. To set up your account, choose a username and a password.
mail-reinvitation-expiry = This link replaces any earlier invitation: older links no longer work. It works once and until { $expires }.

## Password reset
mail-password-reset-subject = Reset your { $product } password
mail-password-reset-preheader = Choose a new password for your { $product } account.
mail-password-reset-intro = To choose a new password for your { $product } account, use the link below.
mail-password-reset-button = Choose a new password
mail-password-reset-expiry = The link works once and until { $expires }. Only the newest reset link works.
mail-password-reset-ignore = If you did not ask for a new password, you can ignore this email: your password stays as it is.

## Password changed
mail-password-changed-subject = Your { $product } password was changed
mail-password-changed-preheader = Your { $product } password was changed on { $when }.
mail-password-changed-reset = The password of your { $product } account was reset with a reset link.
mail-password-changed-staff = A member of staff set a new password for your { $product } account. They will give it to you through a secure channel; this email never contains it.
mail-password-changed-self = The password of your { $product } account was changed from your signed-in account.
mail-password-changed-effect = This signs you out everywhere and blocks the new password (the link works until { $expires }).
mail-password-changed-then-reset = Then reset your password here:

## Username changed
mail-username-changed-subject = Your { $product } username was changed
mail-username-changed-preheader = Your username is now { $username }.
mail-username-changed-from-to = The username of your { $product } account was changed from { $old } to { $new } on { $when }.
mail-username-changed-first = Your { $product } account now has the username { $new } (since { $when }).
mail-username-changed-sign-in = You can sign in with it or with your email address.
mail-username-changed-not-you = If you did not make this change, contact us right away.
mail-your-portal = Your portal: { $url }

## Email address changed
mail-email-changed-subject = Your { $product } email address was changed
mail-email-changed-preheader = Your portal email address is now { $email }.
mail-email-changed-intro = The email address of your { $product } account was changed on { $when }.
mail-email-changed-from-now-on = From now on, sign-in links and notices go to { $email }. Links sent to the old address no longer work.
mail-email-changed-unexpected = If you did not expect this change, contact us.

## No account for a password request
mail-no-account-subject = About your { $product } password request
mail-no-account-preheader = No portal account uses this address.
mail-no-account-intro = Someone asked to reset the password of a { $product } account for { $email }, but no portal account uses this address.
mail-no-account-if-you = If it was you: you may have been invited with another address. Try it here, or ask us for an invitation:
mail-no-account-if-not-you = If it was not you, you can ignore this email.

## "This wasn't me" (to the firm's staff)
mail-account-secured-subject = A client secured their { $product } account: { $email }
mail-account-secured-preheader = { $email } said a password change was not theirs.
mail-account-secured-intro = The client of the portal account { $email } said that a recent password change was not theirs ("This wasn't me").
mail-account-secured-after = Their sessions were signed out and their password was cleared: they need a password reset to sign in again. Please check with the client before sending one.

## Sign-in code
mail-sign-in-code-subject = { $code } is your { $product } sign-in code
mail-sign-in-code-preheader = Your sign-in code works once, until { $expires }.
mail-sign-in-code-intro = Your { $product } sign-in code is:
mail-sign-in-code-expiry = It works once, until { $expires }. Nobody from us will ever ask you for it.
mail-sign-in-code-not-you = If you did not just try to sign in, someone knows your password: reset it now at { $url }.

## Second factors
mail-factor-added-subject = A second factor was added to your { $product } account
mail-factor-added-preheader = A second factor was added to your { $product } account on { $when }.
mail-factor-added = { $factor ->
    [totp] An authenticator app was added
    [email_code] Sign-in codes by email were added
   *[other] A recovery code was added
} to your { $product } account on { $when }.
mail-factor-removed-subject = A second factor was removed from your { $product } account
mail-factor-removed-preheader = A second factor was removed from your { $product } account on { $when }.
mail-factor-removed = { $factor ->
    [totp] An authenticator app was removed
    [email_code] Sign-in codes by email were removed
   *[other] A recovery code was removed
} from your { $product } account on { $when }.
mail-recovery-code-used-subject = A recovery code was used to sign in to { $product }
mail-recovery-code-used-preheader = A recovery code was used to sign in to { $product } on { $when }.
mail-recovery-code-used = A recovery code was used to sign in to your { $product } account on { $when }.
mail-mfa-reset-subject = Your { $product } second factor was reset by staff
mail-mfa-reset-preheader = A staff member reset the second factor of your { $product } account on { $when }.
mail-mfa-reset-intro = A staff member of { $product } reset the second factor of your account on { $when }: your authenticator app, sign-in codes by email, recovery codes and remembered devices were removed, and you were signed out everywhere.
mail-mfa-reset-if-you = { $enrol ->
    [true] If you asked for this, sign in again and set up a second factor.
   *[other] If you asked for this, sign in again.
}
