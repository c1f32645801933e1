-- Second factors (SPEC.md section 8): one JSON document per account, so every
-- factor change is a versioned account update (one commit wins a race for a
-- recovery code or a TOTP step). Sign-in challenges are tokens of kind
-- 'sign_in_challenge' (the tokens table has no kind constraint here).
ALTER TABLE accounts ADD COLUMN mfa TEXT NOT NULL DEFAULT '{}';
