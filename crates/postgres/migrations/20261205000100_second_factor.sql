-- Second factors (SPEC.md section 8): one JSON document per account, so every
-- factor change is a versioned account update (one commit wins a race for a
-- recovery code or a TOTP step). Sign-in challenges are tokens of kind
-- 'sign_in_challenge'.
ALTER TABLE accounts ADD COLUMN mfa jsonb NOT NULL DEFAULT '{}'::jsonb;

ALTER TABLE tokens DROP CONSTRAINT tokens_kind_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_kind_check
    CHECK (kind IN ('invitation', 'password_reset', 'not_me', 'sign_in_challenge'));
