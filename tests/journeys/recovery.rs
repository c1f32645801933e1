//! Issue 13: recovery and trust around the second factor. A client under
//! `--mfa required` remembers a browser at the code step, signs in there
//! again with no code, ends a session of a second browser from the
//! security page, forgets the device; staff reset the second factor; the
//! notice arrives over SMTP with its "this wasn't me" link; the next
//! sign-in asks to enrol again.

use crate::support::browser::Browser;
use crate::support::mail::{link_in, ReceivedMessage};
use crate::support::totp;
use crate::support::Result;
use crate::World;

const KAI: &str = "kai.client@example.com";
const KAI_PASSWORD: &str = "harbour lights over slate";
const SERVER_KEY: &str = "--secret-key=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The password step on `browser`, then (when asked) the code of the next
/// TOTP step after `last_step`, ticking "remember" or not; the step used.
async fn sign_in_with_code(
    world: &World,
    browser: &Browser,
    secret: &str,
    last_step: u64,
    remember: bool,
) -> Result<u64> {
    browser.open(&world.portal.page("/sign-in")).await?;
    browser.expect_page("Sign in").await?;
    browser
        .fill_form(&[("login", KAI), ("password", KAI_PASSWORD)])
        .await?;
    browser.submit().await?;
    let page = browser.expect_page("Confirm it is you").await?;
    assert!(page.contains("Remember this device for 30 days"), "{page}");
    let step = totp::next_step(last_step).await;
    browser.fill("code", &totp::code(secret, step)).await?;
    if remember {
        browser.click("input[name=remember_device]").await?;
    }
    browser.submit().await?;
    browser.expect_page("Your account").await?;
    Ok(step)
}

/// The MFA reset notice, once it arrived over SMTP (30 s at most).
async fn reset_notice(world: &World) -> Result<ReceivedMessage> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let arrived = world.mail.wait_for(KAI, 1).await?;
        if let Some(notice) = arrived
            .into_iter()
            .find(|m| m.subject.contains("second factor was reset"))
        {
            return Ok(notice);
        }
        if std::time::Instant::now() > deadline {
            return Err("no MFA reset notice arrived over SMTP".into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Scrolls the page to `#id` (for the screenshot of that part of it).
async fn scroll_to(browser: &Browser, id: &str) -> Result<()> {
    let script = format!("document.getElementById('{id}').scrollIntoView()");
    browser.client.execute(&script, vec![]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remembered_browser_skips_the_code_and_a_staff_mfa_reset_leads_back_to_enrolment(
) -> Result<()> {
    let world = World::start_with(&["--mfa=required", SERVER_KEY]).await?;
    let (portal, b) = (&world.portal, &world.browser);
    let id = portal.staff.create_account(KAI, "Kai Client").await?;
    portal.staff.set_password(&id, KAI_PASSWORD, false).await?;

    // Under `required`, the first sign-in sets up an authenticator.
    world.fill_sign_in(KAI, KAI_PASSWORD).await?;
    b.submit().await?;
    b.expect_page("Set up a second factor").await?;
    b.submit().await?;
    b.expect_page("Set up your authenticator app").await?;
    let secret = b.text_of("#totp-secret").await?;
    let enrolled_at = totp::step_now();
    b.fill("code", &totp::code(&secret, enrolled_at)).await?;
    b.submit().await?;
    b.expect_page("Save your recovery codes").await?;
    b.submit().await?;
    b.expect_page("Sign-in security").await?;

    // The code step with "remember this device" ticked, then signed out:
    // the password alone signs in again on this browser.
    b.click("form[action$='/sign-out'] button").await?;
    b.expect_page("Signed out").await?;
    let step = sign_in_with_code(&world, b, &secret, enrolled_at, true).await?;
    b.click("form[action$='/sign-out'] button").await?;
    b.expect_page("Signed out").await?;
    world.fill_sign_in(KAI, KAI_PASSWORD).await?;
    b.submit().await?;
    let page = b.expect_page("Your account").await?;
    assert!(page.contains("You are signed in."), "no code asked: {page}");

    // A second browser (its own cookies) is asked for the code.
    let other = Browser::start().await?;
    sign_in_with_code(&world, &other, &secret, step, false).await?;

    // The security page lists both sessions and the remembered device.
    b.open(&portal.page("/security")).await?;
    let page = b.expect_page("Sign-in security").await?;
    assert!(page.contains("Where you are signed in"), "{page}");
    assert!(page.contains("This browser"), "{page}");
    assert!(page.contains("Remembered devices"), "{page}");
    let sessions = b
        .client
        .find_all(fantoccini::Locator::Css("ul.sessions > li"))
        .await?;
    assert_eq!(sessions.len(), 2, "{page}");
    scroll_to(b, "sessions").await?;
    b.screenshot("21-security-sessions-and-devices").await?;

    // Ending the other session signs the second browser out.
    b.click("ul.sessions form[action$='/security/sessions/revoke'] button")
        .await?;
    let page = b.expect_page("Sign-in security").await?;
    assert!(page.contains("That session was ended"), "{page}");
    let sessions = b
        .client
        .find_all(fantoccini::Locator::Css("ul.sessions > li"))
        .await?;
    assert_eq!(sessions.len(), 1, "{page}");
    scroll_to(b, "sessions").await?;
    b.screenshot("22-security-other-session-ended").await?;
    other.open(&portal.page("/security")).await?;
    other.expect_page("Sign in").await?;
    other.close().await?;

    // Forgetting every device: this browser is asked for a code again.
    b.click("form[action$='/security/devices/forget-all'] button")
        .await?;
    let page = b.expect_page("Sign-in security").await?;
    assert!(page.contains("Every device will be asked"), "{page}");
    scroll_to(b, "devices").await?;
    b.screenshot("23-security-devices-forgotten").await?;
    let status = portal.staff.status(&id).await?;
    assert_eq!(status["sessions"]["active"], 1, "{status}");
    assert_eq!(status["mfa"]["remembered_devices"], 0, "{status}");

    // Staff reset the second factor (the client lost their phone).
    portal.staff.mfa_reset(&id).await?;
    let status = portal.staff.status(&id).await?;
    assert_eq!(status["mfa"]["factors"], serde_json::json!([]), "{status}");
    assert_eq!(status["mfa"]["last_reset"]["by"], "e2e-staff", "{status}");
    let notice = reset_notice(&world).await?;
    let not_me = link_in(&notice, &portal.page("/not-me?token="))?;
    assert!(
        notice.html.contains(&not_me),
        "the HTML part carries the link"
    );

    // Signed out everywhere; the next sign-in asks to enrol again.
    b.open(&portal.page("/")).await?;
    b.expect_page("Sign in").await?;
    world.fill_sign_in(KAI, KAI_PASSWORD).await?;
    b.submit().await?;
    b.expect_page("Set up a second factor").await?;

    world.browser.close().await?;
    Ok(())
}
