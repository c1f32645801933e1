## La consola del personal (crates/axum/templates/console/).

console-title = Consola del personal
console-find = Buscar una cuenta
console-new-account = Nueva cuenta
console-signed-in-as = Sesión iniciada como
console-sign-in = Iniciar sesión
console-sign-out = Cerrar sesión
console-footer = consola del personal
console-skip = Ir al contenido
console-language = Idioma

## Inicio de sesión
console-sign-in-heading = Acceso del personal
console-sign-in-unknown = Esta no es una clave de personal de este portal: revísela (se mostró al arrancar el portal, o se la dio quien lo administra) e inténtelo de nuevo.
console-sign-in-lead = Inicie sesión una vez con su clave de personal; la consola lo recordará en este navegador hasta que cierre la sesión.
console-sign-in-token = Clave de personal

## Búsqueda
console-find-heading = Buscar la cuenta de portal de un cliente
console-find-label = Correo, nombre de usuario o referencia de contacto
console-find-button = Buscar
console-find-matching = Cuentas que coinciden con «{ $q }» (página { $page })
console-find-all = Todas las cuentas, las más recientes primero (página { $page })
console-col-client = Cliente
console-col-username = Usuario
console-col-contact = Contacto
console-col-status = Estado
console-none-yet = todavía ninguno
console-previous = Página anterior
console-next = Página siguiente
console-nothing-matches = Ninguna cuenta coincide con «{ $q }»: revise cómo está escrito, o
console-nothing-create = cree la cuenta
console-no-account-yet = Todavía no hay cuentas de portal:
console-create-first = cree la primera

## Distintivos
badge-archived = Archivada
badge-access-on = Acceso activado
badge-access-off = Acceso desactivado
badge-accepted = Aceptada
badge-pending = Invitada, pendiente
badge-not-invited = Sin invitar
badge-must-change = Debe cambiar la contraseña

## Nueva cuenta
console-new-heading = Nueva cuenta de portal
console-new-email = Correo electrónico del cliente
console-new-name = Nombre (se usa en los correos)
console-new-contact = Referencia del contacto en su CRM
console-new-invite = Enviar ya la invitación (el cliente elige su usuario y contraseña)
console-new-create = Crear
console-new-create-invite = Crear e invitar

## La página de la cuenta
console-done-created-invited = Se creó la cuenta y la invitación va en camino: siga su envío en el historial de abajo.
console-done-created = Se creó la cuenta.
console-done-invitation = La invitación va en camino: siga su envío en el historial de abajo.
console-done-reinvitation = Va en camino una nueva invitación; el enlace anterior ya no funciona.
console-done-password-reset = El enlace para restablecer la contraseña va en camino: siga su envío en el historial de abajo.
console-done-password = Se estableció la contraseña. Comuníquesela al cliente por un medio seguro; se cerraron todas sus sesiones y se anularon los enlaces pendientes.
console-done-access-enabled = El acceso al portal está activado: el cliente puede iniciar sesión.
console-done-access-disabled = El acceso al portal está desactivado: el cliente no puede iniciar sesión, ni siquiera con la contraseña correcta.
console-done-archived = La cuenta quedó archivada.
console-done-unarchived = La cuenta salió del archivo.
console-done-email = Se cambió el correo electrónico; se envió un aviso a la dirección anterior y a la nueva.
console-done-verified = Superó la verificación: ya puede volver a enviar el enlace para restablecer la contraseña.
console-done-mfa-reset = Se restableció el segundo factor: se cerraron todas las sesiones y se olvidaron los dispositivos recordados, y se avisó al cliente. En su próximo inicio de sesión volverá a configurarlo.
console-access-heading = Acceso al portal del cliente
console-email = Correo electrónico
console-username = Usuario
console-username-chosen = (lo eligió el cliente; solo él puede cambiarlo)
console-username-none = (el cliente lo elige al aceptar la invitación)
console-contact-ref = Referencia de contacto
console-access = Acceso
console-access-on = Activado
console-access-on-says = el cliente puede iniciar sesión
console-access-off = Desactivado
console-access-off-says = el cliente no puede iniciar sesión
console-invitation = Invitación
console-invitation-pending-badge = Pendiente
console-invitation-pending = enviada el { $sent }, enlace válido hasta el { $expires }
console-archived = Archivada
console-no = No
console-password = Contraseña
console-password-set = Establecida
console-password-must-change = debe cambiarla al iniciar sesión
console-password-not-set = sin establecer
console-last-sign-in = Último inicio de sesión
console-never = nunca
console-mfa = Segundo factor
console-mfa-totp = Aplicación de autenticación
console-mfa-email = Códigos por correo
console-mfa-since = desde el { $at }
console-mfa-none = ninguno
console-mfa-policy = (política del despacho: { $policy })
console-actions = Acciones
console-send-invitation = Enviar invitación
console-resend-invitation = Reenviar invitación
console-send-reset = Enviar enlace para restablecer
console-access-turn-off = Desactivar el acceso
console-access-turn-on = Activar el acceso
console-archive = Archivar
console-unarchive = Sacar del archivo
console-mfa-reset = Restablecer el segundo factor
console-mfa-reset-help = Para un cliente que perdió su teléfono: antes, compruebe quién llama.
console-set-password-heading = Establecer una contraseña a mano
console-set-password-aside = Mejor envíe el enlace para restablecerla: una contraseña que usted establezca tiene que llegar al cliente por un medio seguro.
console-new-password = Nueva contraseña
console-password-hint = Al menos { $min } caracteres.
console-password-again = Repita la contraseña
console-must-change = El cliente deberá elegir una contraseña nueva al iniciar sesión
console-set-password = Establecer contraseña
console-change-email-heading = Cambiar el correo electrónico
console-new-email-address = Nuevo correo electrónico
console-change-email = Cambiar el correo
console-language-of-mail = Idioma de los correos y las páginas del cliente
console-language-save = Guardar idioma

## Historial de correos
console-timeline-heading = Correos enviados al cliente
console-mail-invitation = Invitación
console-mail-reinvitation = Nueva invitación
console-mail-password-reset = Enlace para restablecer la contraseña
console-mail-password-changed = Aviso de cambio de contraseña
console-mail-username-changed = Aviso de cambio de usuario
console-mail-email-changed = Aviso de cambio de correo
console-mail-account-secured = Aviso de cuenta protegida
console-mail-sign-in-code = Código de inicio de sesión
console-mail-other = Aviso
console-mail-to = a { $to }
console-queued = en cola el { $at }
console-sent = enviado el { $at }
console-retrying = reintentando (intento { $attempts }, el próximo el { $next })
console-last-error = último error «{ $error }»
console-failed = falló el { $at }
console-failed-advice = revise la dirección y vuelva a enviarlo
console-superseded = no se envió: su enlace se reemplazó antes
console-waiting = pendiente de envío
console-link-opened = enlace abierto el { $at }
console-link-from = desde { $ip }
console-link-used = enlace usado el { $at }
console-link-replaced = enlace reemplazado el { $at }
console-link-expired = enlace vencido el { $at }
console-link-valid = enlace válido hasta el { $at }
console-no-mail = Todavía no hay correos.

## Registro de eventos
console-events-heading = Qué pasó
console-col-when = Cuándo
console-col-what = Qué
console-col-who = Quién
console-col-from = Desde
console-by-staff = el personal { $id }
console-by-client = el cliente
console-by-portal = el portal
console-nothing-yet = Nada todavía.

## Rechazos: qué hacer
advice-invitation-pending = El cliente todavía no aceptó la invitación: reenvíesela.
advice-invitation-pending-reset = El enlace para restablecer la contraseña solo sirve cuando el cliente ya eligió su usuario y contraseña.
advice-not-invited = Este cliente nunca fue invitado: envíele primero la invitación.
advice-account-archived = La cuenta está archivada: sáquela primero del archivo.
advice-access-disabled = El acceso al portal de este cliente está desactivado: actívelo primero y vuelva a intentarlo.
advice-mailer = No hay un servidor de correo configurado, así que no se puede enviar nada: pida a quien administra el portal que configure uno (portal-server: --smtp-url), o establezca una contraseña a mano más abajo.
advice-verify-before = Envió muchos enlaces para restablecer contraseñas en poco tiempo:
advice-verify-link = supere la verificación humana
advice-verify-after = y después vuelva a enviar el enlace.
advice-captcha-failed = No se superó la verificación: inténtelo de nuevo.
advice-password-rejected = Esta contraseña no es lo bastante segura: elija otra.
advice-password-mismatch = Las dos contraseñas no coinciden: escriba la misma dos veces.
advice-email-taken = Otra cuenta de su despacho ya tiene esta dirección: busque esa cuenta y úsela, o elija otra dirección.
advice-rate-limited = Demasiados intentos en poco tiempo: espere unos minutos y vuelva a intentarlo.
advice-already-accepted = El cliente ya aceptó la invitación: si no puede entrar, envíele un enlace para restablecer la contraseña.
advice-bad-email = No podemos enviar correos a esta dirección: revísela e inténtelo de nuevo.
advice-check-incomplete = La verificación no se completó:
advice-check-none = aquí no hay ningún proveedor de CAPTCHA configurado.
advice-check-tick = marque la casilla de la verificación y después envíe el formulario.
advice-other = No funcionó: { $message }. Vuelva a cargar la página e inténtelo de nuevo.
advice-nothing-to-reset = Este cliente no tiene ningún segundo factor que restablecer.

## Páginas de error
console-stale-heading = Otra persona cambió esta cuenta
console-stale = Otra persona del personal (o el propio cliente) cambió esta cuenta después de que usted la abriera, así que no se cambió nada. Mire la cuenta tal como está ahora y, si todavía hace falta, vuelva a hacerlo.
console-not-found-heading = No existe esa cuenta
console-not-found = No hay ninguna cuenta de portal con este identificador en su despacho:
console-not-found-find = búsquela por correo, usuario o referencia de contacto
console-csrf-heading = Inténtelo de nuevo
console-csrf = Este formulario caducó o se envió desde otro sitio, así que no se cambió nada: vuelva atrás, recargue la página y envíelo otra vez.
console-error-heading = No funcionó
console-error = No se pudo leer el formulario ({ $message }), así que no se cambió nada: vuelva atrás, recargue la página y envíelo otra vez.
console-open-account = Ver la cuenta tal como está ahora

## Verificación humana
console-verify-heading = Verificación humana
console-verify-lead = Envió muchos enlaces para restablecer contraseñas en poco tiempo. Supere esta verificación una vez para seguir enviándolos; no necesita cambiar su propia contraseña.
console-verify-continue = Continuar
console-verify-js = La verificación necesita JavaScript del proveedor ({ $provider }); todo lo demás de la consola funciona sin él.
console-verify-none = Este portal no tiene un CAPTCHA configurado, así que aquí no se puede superar la verificación: pida a quien administra el portal que configure uno (portal-server: --captcha-provider, --captcha-secret y --captcha-site-key), o espere a que se renueve su límite de enlaces.
console-back-to-account = Volver a la cuenta

## Fechas y horas: { $month } es el nombre del mes de abajo.
datetime = { $day } { $month } { $year }, { $hour24 }:{ $minute } { $zone }
month-1 = ene
month-2 = feb
month-3 = mar
month-4 = abr
month-5 = may
month-6 = jun
month-7 = jul
month-8 = ago
month-9 = sept
month-10 = oct
month-11 = nov
month-12 = dic

## Tipos de evento
event-account-created = Cuenta creada
event-invitation-sent = Invitación enviada
event-invitation-resent = Invitación reenviada
event-invitation-accepted = Invitación aceptada
event-fresh-invitation-requested = Nueva invitación solicitada
event-password-reset-sent = Enlace para restablecer enviado
event-password-reset = Contraseña restablecida con un enlace
event-password-set-by-staff = Contraseña establecida por el personal
event-password-changed = Contraseña cambiada
event-access-enabled = Acceso activado
event-access-disabled = Acceso desactivado
event-archived = Archivada
event-unarchived = Sacada del archivo
event-username-changed = Usuario cambiado
event-email-changed = Correo cambiado
event-signed-in = Inició sesión
event-sign-in-failed = Inicio de sesión fallido
event-signed-out = Cerró sesión
event-account-secured = Cuenta protegida («no fui yo»)
event-link-opened = Enlace abierto
event-human-verification-passed = Verificación humana superada
event-second-factor-challenged = Segundo factor solicitado
event-second-factor-failed = Segundo factor incorrecto
event-email-code-sent = Código de inicio de sesión enviado
event-factor-added = Segundo factor añadido
event-factor-removed = Segundo factor eliminado
event-recovery-codes-generated = Códigos de recuperación generados
event-recovery-code-used = Código de recuperación usado
event-mfa-reset = Segundo factor restablecido por el personal
event-sessions-revoked = Sesiones cerradas
event-devices-forgotten = Dispositivos recordados olvidados
