//! A Spanish-speaking client (issue 16, SPEC.md sections 11-12): staff
//! create the account in Spanish, the invitation arrives over SMTP in
//! Spanish with its expiry in the firm's time zone, and Chromium, asking
//! for Spanish, goes from the invitation through signing out and "forgot
//! password" with every page in Spanish; the reset mail is Spanish too.

use crate::support::mail::link_in;
use crate::support::portal::Portal;
use crate::support::Result;
use crate::World;

const CLIENT: &str = "lucia.cliente@example.com";

/// The client's account, created in Spanish (the language of their mail)
/// and invited through the staff API: the one place that says who the
/// client is.
async fn spanish_client(portal: &Portal) -> Result<String> {
    let id = portal
        .staff
        .create_account_in("es", CLIENT, "Lucía Cliente")
        .await?;
    assert_eq!(portal.staff.invite(&id).await?, "invitation");
    Ok(id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_whose_browser_speaks_spanish_reads_the_portal_in_spanish() -> Result<()> {
    let world = World::start_speaking("es-US,es", &["--time-zone", "America/Chicago"]).await?;
    let (portal, mail, b) = (&world.portal, &world.mail, &world.browser);
    let id = spanish_client(portal).await?;
    assert_eq!(portal.staff.status(&id).await?["language"], "es");

    // The invitation, over SMTP: Spanish, its expiry in Chicago's time.
    let invitation = mail.wait_for(CLIENT, 1).await?.remove(0);
    assert!(
        invitation.subject.starts_with("Su invitación a "),
        "{}",
        invitation.subject
    );
    assert!(
        invitation.text.contains("Activar mi cuenta")
            || invitation.html.contains("Activar mi cuenta"),
        "{}",
        invitation.text
    );
    assert!(
        invitation.text.contains("es válido hasta el") && invitation.text.contains(" CST"),
        "the expiry in the firm's zone: {}",
        invitation.text
    );
    assert!(!invitation.text.contains("UTC"), "{}", invitation.text);

    // The link, in the Spanish browser.
    b.open(&link_in(&invitation, &portal.page("/invitation?token="))?)
        .await?;
    let page = b.expect_page("Active su cuenta del portal").await?;
    let html = b.client.find(fantoccini::Locator::Css("html")).await?;
    assert_eq!(html.attr("lang").await?.as_deref(), Some("es"));
    assert!(page.contains(CLIENT), "{page}");
    b.fill_form(&[
        ("username", "lucia"),
        ("password", "un sol de invierno sobre el lago"),
        ("password_confirmation", "un sol de invierno sobre el lago"),
    ])
    .await?;
    b.submit().await?;
    let page = b.expect_page("Su cuenta").await?;
    assert!(page.contains("lucia"), "{page}");
    b.click("form[action$='/sign-out'] button").await?;
    let page = b.expect_page("Sesión cerrada").await?;
    assert!(page.contains("Su sesión está cerrada."), "{page}");

    // Forgot password, from the sign-in page.
    b.open(&portal.page("/sign-in")).await?;
    let page = b.expect_page("Iniciar sesión").await?;
    assert!(
        page.contains("Nombre de usuario o correo electrónico"),
        "{page}"
    );
    b.click_link("¿Olvidó su contraseña?").await?;
    b.expect_page("¿Olvidó su contraseña?").await?;
    b.fill("email", CLIENT).await?;
    b.submit().await?;
    let page = b.expect_page("Revise su correo electrónico").await?;
    assert!(
        page.contains("Si alguna cuenta del portal usa este correo electrónico"),
        "{page}"
    );
    assert!(!page.contains("Check your email"), "{page}");
    b.screenshot("31-portal-spanish").await?;

    let reset = mail.wait_for(CLIENT, 2).await?.remove(1);
    assert!(
        reset.subject.starts_with("Restablezca su contraseña de "),
        "{}",
        reset.subject
    );
    link_in(&reset, &portal.page("/reset-password?token="))?;

    world.browser.close().await?;
    Ok(())
}
