## El idioma del correo de una cuenta: el selector de la consola del
## personal y el formulario del portal.

language-label = Idioma de los correos
language-default = El predeterminado de la firma (inglés)
language-name-en = Inglés (English)
language-name-es = Español
language-save = Guardar el idioma
language-heading = Idioma de sus correos
language-help = Le escribiremos los correos en este idioma.
language-saved = A partir de ahora, sus correos se escribirán en el idioma que eligió.
console-done-language-set = Se guardó el idioma de los correos de este cliente.
event-language-changed = Idioma de los correos cambiado
advice-bad-language = Este portal no escribe correos en ese idioma: elija uno de la lista.
