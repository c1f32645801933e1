//! Staff in the console (issue 16): sign in with the staff token, create and
//! invite, watch the mail go out, read the advice of a refused reset,
//! resend, see the client's acceptance, turn access off, set a password by
//! hand. The client is a second browser.

use crate::support::browser::Browser;
use crate::support::mail::link_in;
use crate::support::portal::STAFF_TOKEN;
use crate::support::Result;
use crate::World;

const CLIENT: &str = "grace.console@example.com";
const CLIENT_PASSWORD: &str = "violet harbour patiently sings";
const SET_BY_STAFF: &str = "granite meadow softly glows";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_invite_a_client_from_the_console_and_manage_their_access() -> Result<()> {
    let world = World::start().await?;
    let (portal, mail, b) = (&world.portal, &world.mail, &world.browser);
    let console = format!("{}/staff/console", portal.base);

    // Signed out, the console asks for the staff token once.
    b.open(&format!("{console}/")).await?;
    b.expect_page("Staff sign-in").await?;
    b.screenshot("24-console-sign-in").await?;
    b.fill("token", STAFF_TOKEN).await?;
    b.submit().await?;
    b.expect_page("Find a client's portal account").await?;

    // Create the account and invite it, in one form.
    b.click_link("New account").await?;
    b.expect_page("New portal account").await?;
    b.fill_form(&[
        ("email", CLIENT),
        ("display_name", "Grace Client"),
        ("contact_ref", "CRM-1906"),
    ])
    .await?;
    b.screenshot("25-console-new-account").await?;
    b.submit().await?;
    let page = b.expect_page("Grace Client").await?;
    assert!(page.contains("the invitation is on its way"), "{page}");
    let account = b.path().await?;
    let account = account.split('?').next().unwrap_or_default().to_owned();

    // The invitation leaves over SMTP: the timeline says "sent".
    mail.wait_for(CLIENT, 1).await?;
    let timeline = wait_for_text(b, &format!("{}{account}", portal.base), "sent ").await?;
    assert!(
        timeline.contains("sent ") && timeline.contains("Invitation"),
        "{timeline}"
    );
    b.open(&format!("{}{account}#timeline-h", portal.base))
        .await?;
    b.expect_page("Grace Client").await?;
    b.screenshot("26-console-invitation-sent").await?;

    // A reset while the invitation is pending: the console says what to do.
    b.click("#password-reset button").await?;
    b.expect_page("Grace Client").await?;
    let advice = b.text_of("#refusal").await?;
    assert_eq!(
        advice.trim(),
        "The invitation has not been accepted yet: resend it. A reset link only works once the client has chosen a username and password."
    );
    b.screenshot("27-console-reset-advice").await?;

    // Resend; the client accepts the new invitation in their own browser.
    b.click("#resend-invitation button").await?;
    let page = b.expect_page("Grace Client").await?;
    assert!(page.contains("A new invitation is on its way"), "{page}");
    let second = mail.wait_for(CLIENT, 2).await?.remove(1);
    let link = link_in(&second, &portal.page("/invitation?token="))?;
    let client = Browser::start().await?;
    client.open(&link).await?;
    client.expect_page("Set up your portal account").await?;
    client
        .fill_form(&[
            ("username", "grace"),
            ("password", CLIENT_PASSWORD),
            ("password_confirmation", CLIENT_PASSWORD),
        ])
        .await?;
    client.submit().await?;
    client.expect_page("Your account").await?;

    // The console shows the username the client chose, and "accepted".
    b.open(&format!("{}{account}", portal.base)).await?;
    b.expect_page("Grace Client").await?;
    assert!(b.text_of("#username").await?.contains("grace"));
    assert!(b.text_of("#invitation").await?.contains("Accepted"));
    b.screenshot("28-console-account-accepted").await?;

    // Access off: the client's session ends and sign-in is refused.
    b.click("#access-toggle button").await?;
    let page = b.expect_page("Grace Client").await?;
    assert!(page.contains("Portal access is off"), "{page}");
    client.open(&portal.page("/")).await?;
    client.expect_page("Sign in").await?;
    client
        .fill_form(&[("login", "grace"), ("password", CLIENT_PASSWORD)])
        .await?;
    client.submit().await?;
    let refused = client.expect_page("Sign in").await?;
    assert!(refused.to_lowercase().contains("access"), "{refused}");

    // Access on again, and a password set by hand (must change: on by default).
    b.click("#access-toggle button").await?;
    b.expect_page("Grace Client").await?;
    b.fill_form(&[
        ("password", SET_BY_STAFF),
        ("password_confirmation", SET_BY_STAFF),
    ])
    .await?;
    b.click("#set-password button").await?;
    let page = b.expect_page("Grace Client").await?;
    assert!(page.contains("The password was set"), "{page}");
    assert!(page.contains("must change at next sign-in"), "{page}");
    client.open(&portal.page("/sign-in")).await?;
    client.expect_page("Sign in").await?;
    client
        .fill_form(&[("login", "grace"), ("password", SET_BY_STAFF)])
        .await?;
    client.submit().await?;
    client.expect_page("Change your password").await?;

    // The list finds her by her contact reference, with her badges.
    b.open(&format!("{console}/?q=crm-1906")).await?;
    let page = b.expect_page("Find a client's portal account").await?;
    assert!(
        page.contains("grace") && page.contains("Accepted"),
        "{page}"
    );
    b.screenshot("29-console-find").await?;

    // The language switch: the same account page in Spanish.
    b.open(&format!("{}{account}?lang=es", portal.base)).await?;
    let page = b.expect_page("Grace Client").await?;
    assert!(page.contains("Acceso al portal del cliente"), "{page}");
    assert!(page.contains("Aceptada"), "{page}");
    b.screenshot("30-console-spanish").await?;
    client.close().await?;
    Ok(())
}

/// Reloads `url` until its page contains `text` (the dispatcher records a
/// delivery a moment after the SMTP server has it); the page's text.
async fn wait_for_text(b: &Browser, url: &str, text: &str) -> Result<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        b.open(url).await?;
        let page = b.text_of("main").await?;
        if page.contains(text) || std::time::Instant::now() > deadline {
            return Ok(page);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
