## The language of an account's mail: the staff console's select and the
## portal's form.

language-label = Language of emails
language-default = The firm's default (English)
language-name-en = English
language-name-es = Spanish (Español)
language-save = Save the language
language-heading = Language of your emails
language-help = We write the emails we send you in this language.
language-saved = Your emails will now be written in the language you chose.
console-done-language-set = The language of this client's emails was saved.
event-language-changed = Language of emails set
advice-bad-language = This portal does not write mail in that language: choose one from the list.
