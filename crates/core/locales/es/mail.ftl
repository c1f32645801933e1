## Correo a los clientes (crates/core/templates/mail/). Las fechas llegan
## ya escritas para el idioma, en la zona horaria de la firma.

## Común a todos los mensajes
mail-hello = Estimado/a cliente:
mail-hello-name = Estimado/a { $name }:
mail-footer = { $product } envió este mensaje a { $email }. Por favor, no responda a este correo.
mail-button-fallback = Si el botón no funciona, copie esta dirección en su navegador:
mail-unknown = desconocido
mail-fact-when = Fecha
mail-fact-ip = Dirección IP
mail-fact-location = Ubicación
mail-fact-os = Sistema operativo
mail-fact-browser = Navegador
mail-fact-account = Cuenta
mail-fact-account-id = Id. de la cuenta
mail-fact-from = Antes
mail-fact-to = Ahora
mail-if-you = Si fue usted, no necesita hacer nada.
mail-not-me-heading = Si no fue usted, proteja su cuenta ahora mismo.
mail-not-me-button = No fui yo
mail-not-me-effect = Así se cerrarán todas sus sesiones y se bloqueará su contraseña (el enlace es válido hasta el { $expires }).
mail-codes-left = Códigos de recuperación restantes: { $count }.

## Invitación y nueva invitación
mail-invitation-subject = Su invitación a { $product }
mail-invitation-preheader = Active su cuenta de { $product }.
mail-invitation-intro = Le damos acceso a { $product }. Para activar su cuenta, elija un nombre de usuario y una contraseña.
mail-invitation-button = Activar mi cuenta
mail-invitation-expiry = El enlace se puede usar una sola vez y es válido hasta el { $expires }. Si ya venció, ábralo de todos modos: desde allí podrá pedir una invitación nueva.
mail-invitation-ignore = Si no esperaba esta invitación, puede ignorar este correo.
mail-reinvitation-subject = Su nueva invitación a { $product }
mail-reinvitation-preheader = Un enlace nuevo para activar su cuenta de { $product }.
mail-reinvitation-intro = Le enviamos una nueva invitación a { $product }. Para activar su cuenta, elija un nombre de usuario y una contraseña.
mail-reinvitation-expiry = Este enlace reemplaza a cualquier invitación anterior: los enlaces anteriores ya no funcionan. Se puede usar una sola vez y es válido hasta el { $expires }.

## Restablecer la contraseña
mail-password-reset-subject = Restablezca su contraseña de { $product }
mail-password-reset-preheader = Elija una contraseña nueva para su cuenta de { $product }.
mail-password-reset-intro = Para elegir una contraseña nueva para su cuenta de { $product }, use el enlace de abajo.
mail-password-reset-button = Elegir una contraseña nueva
mail-password-reset-expiry = El enlace se puede usar una sola vez y es válido hasta el { $expires }. Solo funciona el enlace más reciente.
mail-password-reset-ignore = Si no pidió una contraseña nueva, puede ignorar este correo: su contraseña no cambiará.

## Contraseña cambiada
mail-password-changed-subject = Se cambió su contraseña de { $product }
mail-password-changed-preheader = Su contraseña de { $product } se cambió el { $when }.
mail-password-changed-reset = La contraseña de su cuenta de { $product } se restableció con un enlace de restablecimiento.
mail-password-changed-staff = Un miembro de nuestro equipo estableció una contraseña nueva para su cuenta de { $product }. Se la hará llegar por un medio seguro; este correo nunca la incluye.
mail-password-changed-self = La contraseña de su cuenta de { $product } se cambió desde su sesión en el portal.
mail-password-changed-effect = Así se cerrarán todas sus sesiones y se bloqueará la contraseña nueva (el enlace es válido hasta el { $expires }).
mail-password-changed-then-reset = Después, restablezca su contraseña aquí:

## Nombre de usuario cambiado
mail-username-changed-subject = Se cambió su nombre de usuario de { $product }
mail-username-changed-preheader = Su nombre de usuario ahora es { $username }.
mail-username-changed-from-to = El nombre de usuario de su cuenta de { $product } se cambió de { $old } a { $new } el { $when }.
mail-username-changed-first = Su cuenta de { $product } ahora tiene el nombre de usuario { $new } (desde el { $when }).
mail-username-changed-sign-in = Puede iniciar sesión con él o con su dirección de correo electrónico.
mail-username-changed-not-you = Si usted no hizo este cambio, comuníquese con nosotros de inmediato.
mail-your-portal = Su portal: { $url }

## Dirección de correo cambiada
mail-email-changed-subject = Se cambió su dirección de correo de { $product }
mail-email-changed-preheader = Su dirección de correo del portal ahora es { $email }.
mail-email-changed-intro = La dirección de correo de su cuenta de { $product } se cambió el { $when }.
mail-email-changed-from-now-on = A partir de ahora, los enlaces de acceso y los avisos se enviarán a { $email }. Los enlaces enviados a la dirección anterior ya no funcionan.
mail-email-changed-unexpected = Si no esperaba este cambio, comuníquese con nosotros.

## Ninguna cuenta para un pedido de contraseña
mail-no-account-subject = Sobre su solicitud de contraseña de { $product }
mail-no-account-preheader = Ninguna cuenta del portal usa esta dirección.
mail-no-account-intro = Alguien pidió restablecer la contraseña de una cuenta de { $product } para { $email }, pero ninguna cuenta del portal usa esta dirección.
mail-no-account-if-you = Si fue usted, es posible que lo hayamos invitado con otra dirección. Inténtelo aquí o pídanos una invitación:
mail-no-account-if-not-you = Si no fue usted, puede ignorar este correo.

## «No fui yo» (al equipo de la firma)
mail-account-secured-subject = Un cliente protegió su cuenta de { $product }: { $email }
mail-account-secured-preheader = { $email } indicó que no reconoce un cambio de contraseña.
mail-account-secured-intro = El cliente de la cuenta del portal { $email } indicó que no reconoce un cambio reciente de contraseña («No fui yo»).
mail-account-secured-after = Se cerraron sus sesiones y se borró su contraseña: necesita restablecerla para volver a iniciar sesión. Confirme con el cliente antes de enviarle un enlace.

## Código de inicio de sesión
mail-sign-in-code-subject = { $code } es su código de acceso a { $product }
mail-sign-in-code-preheader = Su código de acceso se puede usar una sola vez, hasta el { $expires }.
mail-sign-in-code-intro = Su código de acceso a { $product } es:
mail-sign-in-code-expiry = Se puede usar una sola vez, hasta el { $expires }. Nunca se lo pediremos.
mail-sign-in-code-not-you = Si no acaba de intentar iniciar sesión, alguien conoce su contraseña: restablézcala ahora en { $url }.

## Segundos factores
mail-factor-added-subject = Se agregó un segundo factor a su cuenta de { $product }
mail-factor-added-preheader = Se agregó un segundo factor a su cuenta de { $product } el { $when }.
mail-factor-added = { $factor ->
    [totp] Se agregó una aplicación de autenticación
    [email_code] Se activaron los códigos de acceso por correo
   *[other] Se agregó un código de recuperación
} a su cuenta de { $product } el { $when }.
mail-factor-removed-subject = Se quitó un segundo factor de su cuenta de { $product }
mail-factor-removed-preheader = Se quitó un segundo factor de su cuenta de { $product } el { $when }.
mail-factor-removed = { $factor ->
    [totp] Se quitó una aplicación de autenticación
    [email_code] Se desactivaron los códigos de acceso por correo
   *[other] Se quitó un código de recuperación
} de su cuenta de { $product } el { $when }.
mail-recovery-code-used-subject = Se usó un código de recuperación para entrar a { $product }
mail-recovery-code-used-preheader = Se usó un código de recuperación para entrar a { $product } el { $when }.
mail-recovery-code-used = Se usó un código de recuperación para iniciar sesión en su cuenta de { $product } el { $when }.
mail-mfa-reset-subject = Nuestro equipo restableció el segundo factor de su cuenta de { $product }
mail-mfa-reset-preheader = Un miembro de nuestro equipo restableció el segundo factor de su cuenta de { $product } el { $when }.
mail-mfa-reset-intro = Un miembro del equipo de { $product } restableció el segundo factor de su cuenta el { $when }: se quitaron su aplicación de autenticación, los códigos de acceso por correo, los códigos de recuperación y los dispositivos recordados, y se cerraron todas sus sesiones.
mail-mfa-reset-if-you = { $enrol ->
    [true] Si usted lo pidió, vuelva a iniciar sesión y configure un segundo factor.
   *[other] Si usted lo pidió, vuelva a iniciar sesión.
}
