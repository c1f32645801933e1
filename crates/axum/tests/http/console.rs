//! The staff console (`/staff/console`): every page and every action, its
//! sign-in, CSRF, tenant isolation, unknown ids and stale versions.

use reqwest::{Client, Method, StatusCode};
use serde_json::json;

use crate::common::*;

pub(crate) const CONSOLE: &str = "/staff/console";

/// A browser signed in to the console as `token`'s staff member.
pub(crate) async fn console_as(app: &TestApp, token: &str) -> Client {
    let client = app.client();
    let page = app.page(&client, &format!("{CONSOLE}/sign-in")).await;
    let csrf = hidden_field(&page, "csrf_token");
    let response = console_post(app, &client, "/sign-in", &csrf, &[("token", token)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "console sign-in");
    client
}

/// The HTML and status of a console page.
pub(crate) async fn open(app: &TestApp, client: &Client, path: &str) -> (StatusCode, String) {
    let response = sent(client.get(app.url(&format!("{CONSOLE}{path}")))).await;
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// Posts a console form: `fields` and the page's `csrf` token to
/// `{CONSOLE}{path}`.
pub(crate) async fn console_post(
    app: &TestApp,
    client: &Client,
    path: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.submit(client, &format!("{CONSOLE}{path}"), csrf, fields)
        .await
}

/// Posts an account page's form `action` with the page's token and version.
pub(crate) async fn act(
    app: &TestApp,
    client: &Client,
    id: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let (_, page) = open(app, client, &format!("/accounts/{id}")).await;
    let csrf = hidden_field(&page, "csrf_token");
    let version = hidden_field(&page, "version");
    let mut form = vec![("version", version.as_str())];
    form.extend_from_slice(fields);
    let target = format!("/accounts/{id}/{action}");
    let response = console_post(app, client, &target, &csrf, &form).await;
    let status = response.status();
    let location = location(&response);
    (status, location, response.text().await.unwrap())
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

pub async fn staff_sign_in_to_the_console_with_their_token_once_and_sign_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client();
    let response = sent(client.get(app.url(&format!("{CONSOLE}/")))).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("{CONSOLE}/sign-in"));

    let page = app.page(&client, &format!("{CONSOLE}/sign-in")).await;
    let csrf = hidden_field(&page, "csrf_token");
    let response = console_post(&app, &client, "/sign-in", &csrf, &[("token", "a-guess")]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(body_text(response)
        .await
        .contains("This is not a staff token of this portal"));

    let response = console_post(&app, &client, "/sign-in", &csrf, &[("token", ALICE)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&response, "portal_staff").expect("the console cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains(ALICE), "the cookie never holds the token");
    let value = cookie["portal_staff=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let (status, page) = open(&app, &client, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_contains(&page, "Signed in as <strong>alice</strong>");

    let csrf = hidden_field(&page, "csrf_token");
    let response = console_post(&app, &client, "/sign-out", &csrf, &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let replayed = sent(
        app.client()
            .get(app.url(&format!("{CONSOLE}/")))
            .header("cookie", format!("portal_staff={value}")),
    )
    .await;
    assert_eq!(
        replayed.status(),
        StatusCode::SEE_OTHER,
        "a signed-out console cookie opens nothing"
    );
}

pub async fn the_staff_apis_own_authentication_opens_the_console_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_account("ann@example.com").await;
    let response = app
        .staff(Method::GET, &format!("{CONSOLE}/accounts/{id}"))
        .sent()
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body_text(response).await.contains("ann@example.com"));
}

pub async fn a_clients_session_cookie_does_not_open_the_console(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, client) = app.signed_in("ann@example.com", "ann").await;
    let (status, _) = open(&app, &client, &format!("/accounts/{id}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let home = app.page(&client, "/portal/").await;
    let csrf = hidden_field(&home, "csrf_token");
    let target = format!("/accounts/{id}/access");
    let form = [("version", "1"), ("access", "off")];
    let response = console_post(&app, &client, &target, &csrf, &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("{CONSOLE}/sign-in"));
    assert_eq!(app.status_of(&id).await["access"], "enabled");
}

pub async fn console_forms_without_a_valid_csrf_token_or_from_another_site_change_nothing(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_account("ann@example.com").await;
    let client = console_as(&app, ALICE).await;
    let (_, page) = open(&app, &client, &format!("/accounts/{id}")).await;
    let version = hidden_field(&page, "version");
    let csrf = hidden_field(&page, "csrf_token");
    let path = format!("{CONSOLE}/accounts/{id}/access");
    let fields = [("version", version.as_str()), ("access", "off")];

    let response = app.post_form(&client, &path, &fields).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(body_text(response).await.contains("This form expired"));
    let response = app.submit(&client, &path, "forged", &fields).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(&fields);
    let response = sent(
        client
            .post(app.url(&path))
            .header("sec-fetch-site", "cross-site")
            .form(&form),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let other_console = console_as(&app, ALICE).await;
    let (_, other_page) = open(&app, &other_console, "/").await;
    let other_token = hidden_field(&other_page, "csrf_token");
    let response = app.submit(&client, &path, &other_token, &fields).await;
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "a token is bound to its console sign-in"
    );
    assert_eq!(app.status_of(&id).await["access"], "enabled");
    let page = app.page(&app.client(), &format!("{CONSOLE}/sign-in")).await;
    assert!(page.contains("csrf_token"));
    let response = app
        .post_form(
            &app.client(),
            &format!("{CONSOLE}/sign-in"),
            &[("token", ALICE)],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "sign-in needs its token too"
    );
}

pub async fn staff_find_accounts_by_email_username_or_contact_ref_a_page_at_a_time(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (_, _client) = app.signed_in("ann@example.com", "annie").await;
    let response = app
        .staff_create(json!({ "email": "bob@example.org", "contact_ref": "CRM-42" }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    for n in 0..25 {
        app.clock.advance(time::Duration::seconds(1));
        app.create_account(&format!("client{n:02}@bulk.example"))
            .await;
    }
    let client = console_as(&app, ALICE).await;

    let (_, page) = open(&app, &client, "/?q=ANNIE").await;
    assert!(page.contains("ann@example.com"), "{page}");
    assert!(page.contains("Accepted") && page.contains("Access on"));
    assert!(!page.contains("bob@example.org"));
    let (_, page) = open(&app, &client, "/?q=crm-42").await;
    assert!(page.contains("bob@example.org") && page.contains("Not invited"));
    let (_, page) = open(&app, &client, "/?q=nobody").await;
    assert!(page.contains("No account matches"), "{page}");

    let (_, first) = open(&app, &client, "/").await;
    assert!(
        first.contains("Next page") && !first.contains("Previous page"),
        "{first}"
    );
    assert!(first.contains("client24@bulk.example"), "newest first");
    assert!(!first.contains("ann@example.com"));
    let (_, second) = open(&app, &client, "/?page=2").await;
    assert!(second.contains("ann@example.com") && second.contains("Previous page"));
    assert!(!second.contains("Next page"));
}

pub async fn creating_an_account_with_its_invitation_shows_the_mail_sent_in_the_timeline(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let client = console_as(&app, ALICE).await;
    let (_, page) = open(&app, &client, "/accounts/new").await;
    let csrf = hidden_field(&page, "csrf_token");
    let form = [
        ("email", "not-an-address"),
        ("display_name", "Ann"),
        ("invite", "on"),
    ];
    let response = console_post(&app, &client, "/accounts", &csrf, &form).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let text = response.text().await.unwrap();
    assert_contains(&text, "This is not an email address we can send to");

    let form = [
        ("email", "ann@example.com"),
        ("display_name", "Ann Client"),
        ("contact_ref", "CRM-7"),
        ("invite", "on"),
    ];
    let response = console_post(&app, &client, "/accounts", &csrf, &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = location(&response);
    assert!(to.ends_with("?done=created_invited"), "{to}");
    app.deliver_mail().await;
    let (status, page) = open(&app, &client, &to[CONSOLE.len()..]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("the invitation is on its way"), "{page}");
    assert_contains(&page, "data-kind=\"invitation\" data-state=\"sent\"");
    assert!(page.contains("Pending"));
    assert!(page.contains("Resend invitation"));
    assert!(
        page.contains("data-kind=\"invitation_sent\""),
        "the audit events"
    );

    let form = [("email", "ANN@example.com")];
    let response = console_post(&app, &client, "/accounts", &csrf, &form).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(body_text(response)
        .await
        .contains("Another account of your firm already has this address"));
}

pub async fn a_reset_while_the_invitation_is_pending_says_to_resend_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, first) = app.invited("ann@example.com").await;
    let client = console_as(&app, ALICE).await;

    let (status, _, page) = act(&app, &client, &id, "password-reset", &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_contains(
        &page,
        "The invitation has not been accepted yet: resend it.",
    );
    assert!(page.contains("data-code=\"invitation_pending\""));

    let (status, to, _) = act(&app, &client, &id, "invitation", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.ends_with("?done=reinvitation"), "{to}");
    let second = app.latest_token("ann@example.com").await;
    assert_ne!(first, second);
    let (_, page) = open(&app, &client, &format!("/accounts/{id}")).await;
    assert_contains(&page, "data-kind=\"reinvitation\" data-state=\"sent\"");
    assert!(
        page.contains("link replaced"),
        "the first link is superseded"
    );
}

pub async fn the_account_page_shows_the_username_and_turns_access_off_and_on(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, client_browser) = app.signed_in("ann@example.com", "annie").await;
    let client = console_as(&app, ALICE).await;
    let (_, page) = open(&app, &client, &format!("/accounts/{id}")).await;
    assert!(page.contains("<strong>annie</strong>"), "{page}");
    assert!(page.contains("data-state=\"accepted\""));
    assert!(page.contains("Last sign-in"));
    assert!(!page.contains("<em>never</em>"), "the client signed in");

    let (status, to, _) = act(&app, &client, &id, "access", &[("access", "off")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.ends_with("?done=access_disabled"));
    let response = sent(client_browser.get(app.url("/api/portal/me"))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = app.api_sign_in("annie", PASSWORD).await;
    assert_error(response, StatusCode::FORBIDDEN, "access_disabled").await;

    let (status, to, _) = act(&app, &client, &id, "access", &[("access", "on")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.ends_with("?done=access_enabled"));
    let response = app.api_sign_in("annie", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// The set-password form with `password`, its `confirmation`, and "must
/// change at next sign-in" ticked.
fn must_change_form<'a>(password: &'a str, confirmation: &'a str) -> [(&'static str, &'a str); 3] {
    [
        ("password", password),
        ("password_confirmation", confirmation),
        ("must_change", "on"),
    ]
}

pub async fn staff_set_a_password_by_hand_that_the_client_must_change(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, _) = app.signed_in("ann@example.com", "annie").await;
    let client = console_as(&app, ALICE).await;

    let mismatch = must_change_form(OTHER_PASSWORD, PASSWORD);
    let (status, _, page) = act(&app, &client, &id, "password", &mismatch).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("The two passwords differ"), "{page}");
    assert!(!page.contains(OTHER_PASSWORD), "a password is never echoed");
    let short = [("password", "short"), ("password_confirmation", "short")];
    let (status, _, page) = act(&app, &client, &id, "password", &short).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_contains(&page, "This password is not strong enough");

    let fields = must_change_form(OTHER_PASSWORD, OTHER_PASSWORD);
    let (status, to, _) = act(&app, &client, &id, "password", &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.ends_with("?done=password"));
    let response = app.api_sign_in("annie", OTHER_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.status_of(&id).await["must_change_password"], true);
    let (_, page) = open(&app, &client, &format!("/accounts/{id}")).await;
    assert!(page.contains("must change at next sign-in"));
}

pub async fn archive_unarchive_and_change_email_from_the_account_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_account("ann@example.com").await;
    app.create_account("bob@example.com").await;
    let client = console_as(&app, ALICE).await;

    let (status, _, page) = act(&app, &client, &id, "email", &[("email", "bob@example.com")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("Another account of your firm already has this address"));
    let (status, to, _) = act(&app, &client, &id, "email", &[("email", "ann@new.example")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    assert_eq!(app.status_of(&id).await["email"], "ann@new.example");

    let (status, to, _) = act(&app, &client, &id, "archive", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.ends_with("?done=archived"));
    let (_, page) = open(&app, &client, &format!("/accounts/{id}")).await;
    assert!(page.contains("Unarchive") && !page.contains("Send invitation"));
    let (status, to, _) = act(&app, &client, &id, "unarchive", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.ends_with("?done=unarchived"));
    assert_eq!(app.status_of(&id).await["archived"], false);
}

pub async fn a_change_made_after_another_staff_members_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_account("ann@example.com").await;
    let client = console_as(&app, ALICE).await;
    let (_, page) = open(&app, &client, &format!("/accounts/{id}")).await;
    let csrf = hidden_field(&page, "csrf_token");
    let seen = hidden_field(&page, "version");

    let response = app.set_access(&id, false).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let target = format!("/accounts/{id}/archive");
    let response = console_post(&app, &client, &target, &csrf, &[("version", &seen)]).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let text = response.text().await.unwrap();
    assert!(text.contains("Someone else changed this account"), "{text}");
    assert!(text.contains("Open the account as it is now") && text.contains(&id));
    let status = app.status_of(&id).await;
    assert_eq!(status["archived"], false, "nothing changed");
    assert_eq!(status["access"], "disabled");
}

pub async fn staff_of_another_tenant_see_no_account_of_this_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_account("ann@example.com").await;
    let bob = console_as(&app, BOB).await;
    let (status, page) = open(&app, &bob, &format!("/accounts/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("There is no portal account here with this id in your firm"));
    let (_, page) = open(&app, &bob, "/?q=ann").await;
    assert!(!page.contains("ann@example.com"));
    let (_, page) = open(&app, &bob, "/").await;
    let csrf = hidden_field(&page, "csrf_token");
    let target = format!("/accounts/{id}/archive");
    let response = console_post(&app, &bob, &target, &csrf, &[("version", "1")]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.status_of(&id).await["archived"], false);
}

pub async fn unknown_and_malformed_account_ids_and_actions_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_account("ann@example.com").await;
    let client = console_as(&app, ALICE).await;
    for path in [
        "/accounts/not-an-id".to_owned(),
        "/accounts/00000000-0000-4000-8000-000000000000".to_owned(),
    ] {
        let (status, page) = open(&app, &client, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.contains("No such account"));
    }
    let (status, _, _) = act(&app, &client, &id, "delete-everything", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, page) = open(&app, &client, "/").await;
    let csrf = hidden_field(&page, "csrf_token");
    let form = [("version", "1")];
    let response = console_post(&app, &client, "/accounts/not-an-id/archive", &csrf, &form).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

pub async fn human_verification_returns_to_the_account_that_asked_for_it(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::captcha_accepting("i-am-human")).await;
    let (id, _) = app.signed_in("ann@example.com", "annie").await;
    let client = console_as(&app, ALICE).await;
    for _ in 0..10 {
        let (status, _, _) = act(&app, &client, &id, "password-reset", &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let (status, _, page) = act(&app, &client, &id, "password-reset", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let link = format!("human-verification?account={id}");
    assert!(page.contains(&link), "{page}");

    let (status, page) = open(&app, &client, &format!("/human-verification?account={id}")).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = hidden_field(&page, "csrf_token");
    let path = format!("{CONSOLE}/human-verification");
    let filled: &[(&str, &str)] = &[("h-captcha-response", "a-robot"), ("account", &id)];
    let response = app.submit(&client, &path, &csrf, filled).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(response)
        .await
        .contains("The check was not passed"));
    let filled: &[(&str, &str)] = &[("h-captcha-response", "i-am-human"), ("account", &id)];
    let response = app.submit(&client, &path, &csrf, filled).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        format!("{CONSOLE}/accounts/{id}?done=verified")
    );
    let (status, to, _) = act(&app, &client, &id, "password-reset", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.ends_with("?done=password_reset"));
}

pub async fn without_a_mailer_the_console_says_to_configure_one_or_set_a_password(
    backend: Backend,
) {
    let app = TestApp::spawn_with(backend, Options::without_mailer()).await;
    let client = console_as(&app, ALICE).await;
    let (_, page) = open(&app, &client, "/accounts/new").await;
    let csrf = hidden_field(&page, "csrf_token");
    let form = [("email", "ann@example.com"), ("invite", "on")];
    let response = console_post(&app, &client, "/accounts", &csrf, &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = location(&response);
    assert!(
        to.ends_with("?done=created&refused=mailer_not_configured"),
        "{to}"
    );
    let (_, page) = open(&app, &client, &to[CONSOLE.len()..]).await;
    assert!(page.contains("No mail server is configured"), "{page}");
    let (_, page) = open(&app, &client, "/human-verification").await;
    assert!(page.contains("No CAPTCHA is configured"));
}

pub async fn the_console_speaks_spanish_from_accept_language_or_the_switch(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, _) = app.invited("ann@example.com").await;
    let client = console_as(&app, ALICE).await;

    let spanish = sent(
        client
            .get(app.url(&format!("{CONSOLE}/accounts/{id}")))
            .header("accept-language", "es-MX,es;q=0.9,en;q=0.5"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(spanish.contains("<html lang=\"es\">"), "{spanish}");
    assert!(spanish.contains("Reenviar invitación"), "{spanish}");
    assert!(spanish.contains("Correos enviados al cliente"));
    let months = [
        "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic",
    ];
    assert!(
        months.iter().any(|m| spanish.contains(&format!(" {m} 20"))),
        "dates are written in Spanish: {spanish}"
    );

    let (_, english) = open(&app, &client, &format!("/accounts/{id}")).await;
    assert!(english.contains("Resend invitation"));
    let response = sent(client.get(app.url(&format!("{CONSOLE}/?lang=es")))).await;
    let cookie = set_cookie(&response, "portal_lang").expect("the switch is remembered");
    assert!(cookie.starts_with("portal_lang=es;"), "{cookie}");
    assert!(body_text(response)
        .await
        .contains("Buscar la cuenta de portal de un cliente"));
    let (_, remembered) = open(&app, &client, &format!("/accounts/{id}")).await;
    assert!(
        remembered.contains("Reenviar invitación"),
        "the cookie keeps Spanish"
    );
    let (status, _, refused) = act(&app, &client, &id, "password-reset", &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(refused.contains("El cliente todavía no aceptó la invitación: reenvíesela."));
}

pub async fn staff_reset_a_lost_second_factor_from_the_account_page_once(backend: Backend) {
    let options = Options::with_mfa(portal_access_core::MfaMode::Optional);
    let app = TestApp::spawn_with(backend, options).await;
    let (id, client_browser, _) =
        crate::recovery::with_totp(&app, "ann@example.com", "annie").await;
    let client = console_as(&app, ALICE).await;
    let (_, page) = open(&app, &client, &format!("/accounts/{id}")).await;
    assert!(page.contains("Reset second factor"), "{page}");

    let (status, to, _) = act(&app, &client, &id, "mfa-reset", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.ends_with("?done=mfa_reset"), "{to}");
    let me = sent(client_browser.get(app.url("/api/portal/me"))).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "sessions ended");
    let status = app.status_of(&id).await;
    assert_eq!(status["mfa"]["factors"], json!([]));
    assert_eq!(status["mfa"]["last_reset"]["by"], "alice");
    let (_, page) = open(&app, &client, &format!("/accounts/{id}?done=mfa_reset")).await;
    assert!(page.contains("The second factor was reset"), "{page}");
    assert!(
        !page.contains("Reset second factor"),
        "no factor left to reset"
    );

    // Posted again (a page opened before the reset): the advice, nothing changed.
    let (status, _, page) = act(&app, &client, &id, "mfa-reset", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_contains(&page, "This client has no second factor to reset.");
    assert_eq!(app.status_of(&id).await["mfa"]["last_reset"]["by"], "alice");
}
