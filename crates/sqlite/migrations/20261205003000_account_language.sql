-- The language of an account's mail (SPEC.md section 11): a language tag
-- the portal speaks (`es`), set by staff or by the client; NULL is the
-- firm's default, English.
ALTER TABLE accounts ADD COLUMN language TEXT;
