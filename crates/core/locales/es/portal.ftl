## Las páginas del portal de clientes (crates/axum/templates/*.html).

## El marco (layout.html)
portal-skip = Ir al contenido
portal-your-account = Su cuenta
portal-home = Inicio
portal-username = Nombre de usuario
portal-password = Contraseña
portal-security = Seguridad
portal-sign-out = Cerrar sesión
portal-language = Idioma

## Palabras compartidas
portal-email = Correo electrónico
portal-current-password = Contraseña actual
portal-new-password = Nueva contraseña
portal-repeat-new-password = Escriba otra vez la nueva contraseña
portal-password-hint = Al menos { $min } caracteres. Unas cuantas palabras sin relación entre sí forman una contraseña segura y fácil de recordar.
portal-username-hint = De 3 a 32 caracteres: letras, números, puntos, guiones y guiones bajos.
portal-start-again = Volver a empezar
portal-cancel = Cancelar
portal-change = Cambiar
portal-totp = Aplicación de autenticación
portal-email-code = Códigos por correo electrónico
portal-code-from-app = Código de su aplicación de autenticación
portal-six-digits = 6 dígitos.
portal-back-to-sign-in = Volver a iniciar sesión
portal-check-email = Revise su correo electrónico

## Inicio de sesión (sign_in.html)
sign-in-title = Iniciar sesión
sign-in-expired = Su inicio de sesión venció o se escribieron demasiados códigos incorrectos. Inicie sesión de nuevo.
sign-in-login = Nombre de usuario o correo electrónico
sign-in-button = Iniciar sesión
sign-in-forgot = ¿Olvidó su contraseña?

## Contraseña olvidada (forgot_password.html)
forgot-title = ¿Olvidó su contraseña?
forgot-lead = Escriba el correo electrónico de su cuenta del portal. Le enviaremos un enlace para crear una nueva contraseña.
forgot-button = Enviarme un enlace

## Nueva contraseña (reset_password.html)
reset-title = Elija una nueva contraseña
reset-lead = Para la cuenta del portal de
reset-button = Guardar la contraseña e iniciar sesión

## Invitación (invitation.html)
invitation-title = Active su cuenta del portal
invitation-lead-before = Recibió una invitación al portal para el correo
invitation-lead-after = Elija un nombre de usuario y una contraseña.
invitation-username-hint = De 3 a 32 caracteres: letras, números, puntos, guiones y guiones bajos. También puede iniciar sesión con su correo electrónico.
invitation-repeat-password = Escriba otra vez la contraseña
invitation-button = Crear mi cuenta

## Un enlace que ya no funciona (link_invalid.html)
link-invalid-title = Este enlace ya no funciona
link-invalid-invitation = Los enlaces de invitación funcionan una sola vez y por tiempo limitado, y solo vale la invitación más reciente.
link-invalid-fresh-button = Enviarme una nueva invitación
link-invalid-fresh-where = Se envía al correo electrónico que su firma tiene registrado.
link-invalid-ask-firm = Pida a su firma que le envíe una nueva invitación. Si ya activó su cuenta,
link-invalid-sign-in = inicie sesión
link-invalid-not-me = Este enlace ya se usó o venció.
link-invalid-not-me-advice = Si cree que otra persona conoce su contraseña,
link-invalid-set-new = cree una nueva
link-invalid-tell-firm = y avise a su firma.
link-invalid-password = Los enlaces para cambiar la contraseña funcionan una sola vez y por tiempo limitado, y solo vale el más reciente.
link-invalid-new-link = Enviarme un nuevo enlace

## Inicio (home.html)
home-title = Su cuenta
home-done-password = Se cambió su contraseña. Se cerró la sesión en sus otros dispositivos.
home-done-username = Se cambió su nombre de usuario.
home-done-signed-in = Inició sesión correctamente.
home-temporary-password = Su firma le asignó una contraseña temporal.
home-choose-own = Elija su propia contraseña
home-to-continue = para continuar.
home-username-none = todavía ninguno
home-username-none-says = inicia sesión con su correo electrónico
home-second-factor = Segundo factor
home-factor-none = ninguno
home-manage = Administrar
home-change-email = Para cambiar su correo electrónico, comuníquese con su firma.

## Nombre de usuario (username.html)
username-title = Cambiar su nombre de usuario
username-is = Su nombre de usuario es
username-none = Todavía no tiene nombre de usuario.
username-new = Nuevo nombre de usuario
username-save = Guardar el nombre de usuario

## Contraseña (password.html)
password-title = Cambiar su contraseña
password-temporary = Su firma le asignó una contraseña temporal. Elija su propia contraseña para continuar.
password-button = Cambiar la contraseña
password-signs-out = Al cambiar su contraseña se cierra la sesión en todos sus otros dispositivos.

## «No fui yo» (not_me.html)
not-me-title = Proteja su cuenta
not-me-heading = ¿No fue usted?
not-me-lead-before = Si usted no cambió la contraseña de
not-me-lead-after = , proteja su cuenta ahora.
not-me-what = Así se cierra la sesión en todos los dispositivos, se elimina la contraseña actual y se avisa a su firma. Después podrá crear una nueva contraseña con un enlace que le enviaremos por correo electrónico.
not-me-button = Proteger mi cuenta
not-me-if-you = Si fue usted, no tiene que hacer nada:
not-me-go-home = ir a su cuenta

## El segundo factor al iniciar sesión (second_factor.html)
second-factor-title = Confirme que es usted
second-factor-sent = Le enviamos un código de inicio de sesión por correo electrónico. Funciona una sola vez, durante 10 minutos.
second-factor-recovery-lead = Escriba uno de los códigos de recuperación que guardó al configurar su segundo factor. Cada código funciona una sola vez.
second-factor-recovery-code = Código de recuperación
second-factor-recovery-hint = 10 letras y números.
second-factor-email-lead = Escriba el código de 6 dígitos que le enviamos por correo electrónico.
second-factor-email-code = Código del correo electrónico
second-factor-totp-lead = Abra su aplicación de autenticación y escriba el código de 6 dígitos que muestra para este portal.
second-factor-totp-hint = 6 dígitos. Cada 30 segundos aparece un código nuevo.
second-factor-remember = Recordar este dispositivo durante { $days } días
second-factor-remember-hint = Solo en un dispositivo que use únicamente usted. Puede dejar de recordarlo cuando quiera en su página de seguridad.
second-factor-continue = Continuar
second-factor-use-totp = Usar su aplicación de autenticación
second-factor-email-me = Enviarme un código por correo
second-factor-email-me-again = Enviarme un código nuevo
second-factor-use-recovery = Usar un código de recuperación

## La configuración que exige la firma (enrol.html)
enrol-title = Configure un segundo factor
enrol-lead = Su firma pide a todos sus clientes que confirmen su inicio de sesión con un segundo factor. Configure uno para continuar: no iniciará sesión antes de hacerlo.
enrol-totp-heading = Una aplicación de autenticación
enrol-totp-says = Use una aplicación como Google Authenticator, Microsoft Authenticator o 1Password: muestra un código nuevo cada 30 segundos.
enrol-totp-button = Configurar una aplicación de autenticación
enrol-email-says = Le enviamos un código de 6 dígitos por correo electrónico cada vez que inicie sesión. Para elegir esta opción, escriba otra vez su contraseña.
enrol-your-password = Su contraseña
enrol-email-button = Usar códigos por correo electrónico

## La aplicación de autenticación (totp.html)
totp-title = Configure su aplicación de autenticación
totp-step-open = Abra su aplicación de autenticación y agregue una cuenta.
totp-step-scan = Escanee este código QR:
totp-step-or-type = o escriba esta clave:
totp-step-type = Escriba esta clave:
totp-step-enter = Escriba el código de 6 dígitos que ahora muestra la aplicación.
totp-confirm = Confirmar

## Códigos de recuperación (recovery_codes.html)
codes-title = Guarde sus códigos de recuperación
codes-lead = Si pierde su teléfono, cada uno de estos códigos le permite iniciar sesión una vez en lugar del código de su aplicación.
codes-keep = Imprímalos o guárdelos en su administrador de contraseñas.
codes-once = Solo se muestran esta vez
codes-new = ; puede crear otros en la página de seguridad (los anteriores dejarán de funcionar).
codes-saved = Ya los guardé

## Seguridad del inicio de sesión (security.html)
security-title = Seguridad del inicio de sesión
security-done-totp = Su aplicación de autenticación quedó configurada. Guarde bien sus códigos de recuperación.
security-done-email = Recibirá un código por correo electrónico cada vez que inicie sesión.
security-done-removed = Se eliminó el factor.
security-policy-required = Su firma exige un segundo factor para iniciar sesión.
security-policy-soon = Su firma pronto exigirá un segundo factor para iniciar sesión: configure uno ahora.
security-policy-optional = Un segundo factor protege su cuenta aunque alguien llegue a conocer su contraseña.
security-factors = Sus factores
security-added = agregado el { $at }
security-last-used = usado por última vez el { $at }
security-codes-left = Códigos de recuperación restantes:
security-no-factor = Todavía no tiene un segundo factor.
security-add-totp = Agregar una aplicación de autenticación
security-email-button = Recibir códigos de inicio de sesión por correo
security-remove-heading = Eliminar un factor o crear nuevos códigos de recuperación
security-remove-totp = Eliminar la aplicación de autenticación
security-remove-email = Eliminar los códigos por correo electrónico
security-new-codes = Crear nuevos códigos de recuperación
security-sessions = Dónde tiene la sesión iniciada
security-done-session = Se cerró esa sesión: ese navegador tendrá que iniciar sesión de nuevo.
security-done-others = Se cerraron todas las demás sesiones.
security-not-yours = Esa sesión o ese dispositivo no es suyo, o ya se había cerrado.
security-browser-on = { $browser } en { $os }
security-unknown-browser = Navegador desconocido
security-unknown-os = un sistema desconocido
security-unknown-location = ubicación desconocida
security-this-browser = Este navegador
security-signed-in-at = inició sesión el { $at }
security-last-seen = última actividad el { $at }
security-end-session = Cerrar esta sesión
security-end-others = Cerrar todas las demás sesiones
security-devices = Dispositivos recordados
security-done-device = A ese dispositivo se le volverá a pedir un segundo factor.
security-done-devices = A todos los dispositivos se les volverá a pedir un segundo factor.
security-devices-lead = Estos navegadores no piden el segundo factor al iniciar sesión, hasta la fecha indicada.
security-remembered = recordado el { $at }
security-until = hasta el { $at }
security-forget = Olvidar este dispositivo
security-forget-all = Olvidar todos los dispositivos
security-no-device = No hay dispositivos recordados. Marque «Recordar este dispositivo» al escribir un código para no tener que dar el segundo factor durante { $days } días en un navegador que use únicamente usted.
security-back = Volver a su cuenta

## Mensajes (message.html)
message-signed-out-title = Sesión cerrada
message-signed-out = Su sesión está cerrada.
message-sign-in-again = Iniciar sesión de nuevo
message-reset-sent = Si alguna cuenta del portal usa este correo electrónico, le enviamos un mensaje.
message-reset-link = Contiene un enlace para crear una nueva contraseña. El enlace funciona una sola vez y por tiempo limitado.
message-reset-nothing = ¿No le llega nada después de unos minutos? Revise su carpeta de correo no deseado o pida a su firma que verifique el correo que tiene registrado.
message-fresh-sent = Si esta invitación se puede renovar, le enviamos una nueva al correo electrónico que su firma tiene registrado.
message-fresh-newest = Use el enlace del mensaje más reciente: los enlaces anteriores dejan de funcionar.
message-fresh-nothing = ¿No le llega nada después de unos minutos? Revise su carpeta de correo no deseado o pida a su firma que le envíe una nueva invitación.
message-secured-title = Su cuenta está protegida
message-secured = Se cerró la sesión en todos los dispositivos y se eliminó la contraseña. Avisamos a su firma.
message-secured-next = Para volver a usar el portal, cree una nueva contraseña con un enlace que le enviaremos por correo electrónico.
message-set-new-password = Crear una nueva contraseña

## La página de error (error.html)
error-csrf-title = Inténtelo de nuevo
error-csrf = Este formulario venció o se envió desde otro sitio. Regrese, vuelva a cargar la página y envíelo de nuevo.
error-validation-title = No se pudo leer el formulario
error-not-found-title = Página no encontrada
error-not-found = Esta página no existe.
error-other-title = Algo no salió bien
error-other = Regrese, vuelva a cargar la página y envíe el formulario de nuevo.

## La página de falla (sin plantilla: una plantilla puede ser lo que falló)
failure-title = Algo salió mal
failure-internal = Algo salió mal de nuestro lado. Vuelva a intentarlo en un momento.
failure-unavailable = El servicio no está disponible por un momento y no se cambió nada. Vuelva a intentarlo en un momento.
failure-reference = Referencia:
error-to-portal = Ir al portal

## Rechazos junto a un campo
refusal-token-invalid = Este enlace ya no es válido; pida uno nuevo.
refusal-password-rejected = No se puede usar esta contraseña:
refusal-password-mismatch = Las dos contraseñas no coinciden.
refusal-username-invalid = No se puede usar este nombre de usuario.
refusal-username-length = Un nombre de usuario tiene de 3 a 32 caracteres.
refusal-username-characters = Un nombre de usuario solo puede tener letras, números, «.», «_» y «-».
refusal-username-taken = Este nombre de usuario ya está en uso; elija otro.
refusal-email-taken = Otra cuenta del portal de esta firma ya usa este correo electrónico.
refusal-invalid-credentials = El nombre de usuario, el correo o la contraseña no son correctos.
refusal-current-password-wrong = La contraseña actual no es correcta.
refusal-access-disabled = El acceso al portal está desactivado para esta cuenta; comuníquese con su firma.
refusal-account-archived = Esta cuenta del portal está archivada; comuníquese con su firma.
refusal-not-invited = Esta cuenta nunca recibió una invitación; comuníquese con su firma.
refusal-invitation-pending = La invitación sigue pendiente; use el enlace de su invitación.
refusal-human-verification-required = Complete la verificación de que no es un robot.
refusal-captcha-failed = Complete la verificación de que no es un robot.
refusal-mailer-not-configured = Por ahora este portal no puede enviar correos; comuníquese con su firma.
refusal-rate-limited = Demasiados intentos; inténtelo de nuevo más tarde.
refusal-not-found = No se encontró.
refusal-unauthenticated = Inicie sesión.
refusal-sign-in-expired = Su inicio de sesión venció; inicie sesión de nuevo.
refusal-validation-failed = No se pudo leer el formulario; vuelva a cargar la página e inténtelo de nuevo.
refusal-second-factor-invalid = Ese código no es válido; revíselo e inténtelo de nuevo.
refusal-second-factor-required = Este portal exige un segundo factor; agregue otro antes de eliminar este.
refusal-factor-not-allowed = Este tipo de segundo factor no está disponible en este portal.
refusal-nothing-to-confirm = No hay ninguna aplicación de autenticación por confirmar; vuelva a empezar.
refusal-factor-already-set-up = Este segundo factor ya está configurado.
refusal-factor-not-set-up = Este segundo factor no está configurado.
refusal-choose-factor = Elija el factor que desea eliminar.
refusal-stale-version = La cuenta cambió mientras tanto: no se cambió nada. Vuelva a cargar la página e inténtelo de nuevo.
refusal-csrf-failed = Este formulario venció o se envió desde otro sitio: vuelva a cargar la página y envíelo de nuevo.
refusal-service-unavailable = El portal está ocupado en este momento: inténtelo de nuevo en un momento.

## Por qué se rechazó una contraseña (reason-<código>)
reason-too-short = Use al menos { $min } caracteres.
reason-too-long = Use como máximo { $max } caracteres.
reason-common = Esta contraseña es demasiado común; elija otra.
reason-same-as-username = La contraseña no puede ser su nombre de usuario.
reason-same-as-email = La contraseña no puede ser su correo electrónico.
