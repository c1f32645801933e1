//! A Spanish-speaking client (issue 16, SPEC.md section 11): Chromium asks
//! for Spanish, and the portal answers in Spanish from the sign-in page to
//! the confirmation of "forgot password".

use crate::support::portal::Portal;
use crate::support::Result;
use crate::World;

const CLIENT: &str = "lucia.cliente@example.com";

/// The client's account, created (and invited) through the staff API: the
/// one place that says who the client is.
async fn spanish_client(portal: &Portal) -> Result<String> {
    let id = portal.staff.create_account(CLIENT, "Lucía Cliente").await?;
    assert_eq!(portal.staff.invite(&id).await?, "invitation");
    Ok(id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_whose_browser_speaks_spanish_reads_the_portal_in_spanish() -> Result<()> {
    let world = World::start_speaking("es-US,es").await?;
    let (portal, b) = (&world.portal, &world.browser);
    spanish_client(portal).await?;

    b.open(&portal.page("/sign-in")).await?;
    let page = b.expect_page("Iniciar sesión").await?;
    assert!(
        page.contains("Nombre de usuario o correo electrónico"),
        "{page}"
    );
    let html = b.client.find(fantoccini::Locator::Css("html")).await?;
    assert_eq!(html.attr("lang").await?.as_deref(), Some("es"));

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

    world.browser.close().await?;
    Ok(())
}
