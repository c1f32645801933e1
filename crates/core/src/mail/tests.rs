use super::*;

fn render(templates: &Templates, kind: MessageKind, vars: &serde_json::Value) -> Rendered {
    templates.render(kind, vars).unwrap()
}

#[test]
fn every_built_in_template_renders_with_sample_values() {
    let templates = Templates::builtin();
    templates.validate().unwrap();
    for kind in MessageKind::ALL {
        let rendered = render(&templates, kind, &Templates::sample_vars(kind));
        assert!(!rendered.subject.is_empty(), "{kind:?} subject");
        assert!(!rendered.subject.contains("{{"), "{kind:?} subject");
        assert!(rendered.text.len() > 50, "{kind:?} text");
        assert!(
            rendered.html.starts_with("<!DOCTYPE html>"),
            "{kind:?} html"
        );
        assert!(rendered.html.contains("Client portal"), "{kind:?} html");
        assert!(
            rendered.text.starts_with("Hello Ann Client,\n\n")
                || rendered.text.starts_with("Hello,\n\n"),
            "{kind:?}: the greeting, then a blank line: {}",
            rendered.text
        );
    }
}

#[test]
fn link_messages_carry_their_link_in_text_and_html() {
    let templates = Templates::builtin();
    for kind in [
        MessageKind::Invitation,
        MessageKind::Reinvitation,
        MessageKind::PasswordReset,
        MessageKind::PasswordChanged,
    ] {
        let vars = Templates::sample_vars(kind);
        let link = vars["link"].as_str().unwrap();
        let rendered = render(&templates, kind, &vars);
        assert!(rendered.text.contains(link), "{kind:?} text");
        assert!(
            rendered.html.contains(&format!("href=\"{link}\"")),
            "{kind:?} html"
        );
        assert!(
            rendered.text.contains("Mar 9, 2026, 10:00 AM UTC"),
            "{kind:?} expiry"
        );
    }
}

#[test]
fn html_escapes_inserted_values() {
    let mut vars = Templates::sample_vars(MessageKind::Invitation);
    vars["recipient_name"] = "<script>alert(1)</script>".into();
    let rendered = render(&Templates::builtin(), MessageKind::Invitation, &vars);
    assert!(!rendered.html.contains("<script>"));
    assert!(rendered.html.contains("&lt;script&gt;"));
    assert!(
        rendered.text.contains("<script>alert(1)</script>"),
        "plain text is not escaped"
    );
}

#[test]
fn the_password_changed_notice_tells_when_where_and_what_to_do() {
    let vars = Templates::sample_vars(MessageKind::PasswordChanged);
    let rendered = render(&Templates::builtin(), MessageKind::PasswordChanged, &vars);
    for fact in [
        "Mar 2, 2026, 10:00 AM UTC",
        "203.0.113.9",
        "Leeds, England, United Kingdom",
        "Windows 10",
        "Firefox 121.0",
        "https://portal.example.com/portal/forgot-password",
        "wasn't you",
    ] {
        assert!(rendered.text.contains(fact), "text lacks {fact}");
    }
    assert!(rendered.html.contains("This wasn&#x27;t me"));
}

#[test]
fn unknown_notice_details_are_written_as_unknown() {
    let mut vars = Templates::sample_vars(MessageKind::PasswordChanged);
    for key in ["ip", "location", "os", "browser"] {
        vars[key] = serde_json::Value::Null;
    }
    let rendered = render(&Templates::builtin(), MessageKind::PasswordChanged, &vars);
    assert_eq!(
        rendered.text.matches("unknown").count(),
        4,
        "{}",
        rendered.text
    );
    assert!(!rendered.text.contains("none"));
}

#[test]
fn the_notice_wording_follows_the_reason() {
    let templates = Templates::builtin();
    let mut vars = Templates::sample_vars(MessageKind::PasswordChanged);
    vars["reason"] = "staff".into();
    let staff = render(&templates, MessageKind::PasswordChanged, &vars);
    assert!(staff.text.contains("member of staff"));
    assert!(staff.text.contains("never contains it"));
    vars["reason"] = "self".into();
    assert!(render(&templates, MessageKind::PasswordChanged, &vars)
        .text
        .contains("changed from your signed-in account"));
}

#[test]
fn an_override_replaces_a_built_in() {
    let templates = Templates::builtin()
        .with_override("password_reset.txt", "Reset: {{ link }}\n")
        .with_override(
            "layout.html",
            "<html><body>{% block content %}{% endblock %}</body></html>",
        );
    templates.validate().unwrap();
    let vars = Templates::sample_vars(MessageKind::PasswordReset);
    let rendered = render(&templates, MessageKind::PasswordReset, &vars);
    assert_eq!(
        rendered.text,
        format!("Reset: {}\n", vars["link"].as_str().unwrap())
    );
    assert!(rendered.html.starts_with("<html><body>"));
    assert_eq!(rendered.subject, "Reset your Client portal password");
}

#[test]
fn a_broken_override_is_refused_by_validate() {
    let syntax = Templates::builtin().with_override("invitation.html", "{% if link %}unclosed");
    let err = syntax.validate().unwrap_err();
    assert_eq!(err.name(), "invitation.html");

    let undefined = Templates::builtin().with_override("invitation.txt", "{{ no_such_variable }}");
    assert_eq!(undefined.validate().unwrap_err().name(), "invitation.txt");

    let misspelt = Templates::builtin().with_override("invitaton.html", "hi");
    assert_eq!(misspelt.validate().unwrap_err().name(), "invitaton.html");
}

#[test]
fn a_subject_with_crlf_stays_one_line() {
    let templates = Templates::builtin().with_override(
        "password_reset.subject.txt",
        "Reset\r\nBcc: attacker@example.com\n{{ recipient_name }}\n",
    );
    let mut vars = Templates::sample_vars(MessageKind::PasswordReset);
    vars["recipient_name"] = "Ann\r\nX-Evil: 1".into();
    let rendered = render(&templates, MessageKind::PasswordReset, &vars);
    assert_eq!(
        rendered.subject,
        "Reset Bcc: attacker@example.com Ann X-Evil: 1"
    );
    assert!(!rendered.subject.contains(['\r', '\n']));
}

#[test]
fn subjects_are_not_html_escaped() {
    let mut vars = Templates::sample_vars(MessageKind::AccountSecured);
    vars["account_email"] = "o'brien&co@example.com".into();
    let rendered = render(&Templates::builtin(), MessageKind::AccountSecured, &vars);
    assert!(rendered.subject.ends_with("o'brien&co@example.com"));
    assert!(rendered.html.contains("o&#x27;brien&amp;co@example.com"));
}

#[test]
fn templates_in_an_override_directory_replace_built_ins() {
    let dir = std::env::temp_dir().join(format!(
        "portal-templates-{}-{}",
        std::process::id(),
        line!()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("no_account.subject.txt"),
        "Nothing here for {{ recipient_email }}",
    )
    .unwrap();
    std::fs::write(dir.join("unrelated.md"), "ignored").unwrap();
    let templates = Templates::from_dir(&dir);
    let result = templates.validate().and_then(|()| {
        templates.render(
            MessageKind::NoAccount,
            &Templates::sample_vars(MessageKind::NoAccount),
        )
    });
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        result.unwrap().subject,
        "Nothing here for ann.client@example.com"
    );
}

#[test]
fn a_missing_override_directory_is_refused_by_validate() {
    let templates = Templates::from_dir("/nonexistent/portal-access/templates");
    assert!(templates.validate().is_err());
}

#[test]
fn a_missing_variable_is_an_error_not_an_empty_string() {
    let mut vars = Templates::sample_vars(MessageKind::PasswordReset);
    vars.as_object_mut().unwrap().remove("link");
    assert!(Templates::builtin()
        .render(MessageKind::PasswordReset, &vars)
        .is_err());
}

#[test]
fn mail_time_is_rfc3339_in_utc() {
    let at = time::macros::datetime!(2026-11-23 15:05:59.123 +01:00);
    assert_eq!(mail_time(at), "2026-11-23T14:05:59Z");
}

fn in_language(kind: MessageKind, lang: &str, tz: &str) -> serde_json::Value {
    let mut vars = Templates::sample_vars(kind);
    vars["lang"] = lang.into();
    vars["tz"] = tz.into();
    vars
}

#[test]
fn every_message_is_written_in_spanish_with_no_key_left_unsaid() {
    let templates = Templates::builtin();
    for kind in MessageKind::ALL {
        for vars in samples(kind) {
            let mut vars = vars;
            vars["lang"] = "es".into();
            let rendered = render(&templates, kind, &vars);
            for part in [&rendered.subject, &rendered.text, &rendered.html] {
                assert!(
                    !part.contains("mail-"),
                    "{kind:?}: a message key shows: {part}"
                );
                assert!(
                    !part.contains("Hello"),
                    "{kind:?}: English in Spanish mail: {part}"
                );
            }
            assert!(rendered.html.contains(r#"<html lang="es">"#), "{kind:?}");
        }
    }
}

#[test]
fn the_spanish_invitation_is_spanish_with_its_expiry_in_the_firms_zone() {
    let vars = in_language(MessageKind::Invitation, "es", "America/Chicago");
    let rendered = render(&Templates::builtin(), MessageKind::Invitation, &vars);
    assert_eq!(rendered.subject, "Su invitación a Client portal");
    assert!(
        rendered.text.starts_with("Estimado/a Ann Client:"),
        "{}",
        rendered.text
    );
    assert!(
        rendered
            .text
            .contains("válido hasta el 9 mar 2026, 5:00 CDT"),
        "{}",
        rendered.text
    );
    assert!(rendered.html.contains("Activar mi cuenta"));
}

#[test]
fn english_mail_is_written_in_the_firms_zone_too() {
    let vars = in_language(MessageKind::PasswordReset, "en", "America/Chicago");
    let rendered = render(&Templates::builtin(), MessageKind::PasswordReset, &vars);
    assert!(
        rendered.text.contains("until Mar 9, 2026, 5:00 AM CDT"),
        "{}",
        rendered.text
    );
}

#[test]
fn a_language_the_locales_lack_falls_back_to_english() {
    let vars = in_language(MessageKind::Invitation, "fr", "UTC");
    let rendered = render(&Templates::builtin(), MessageKind::Invitation, &vars);
    assert_eq!(rendered.subject, "You're invited to Client portal");
}

#[test]
fn a_host_message_override_reaches_the_mail() {
    let dir = std::env::temp_dir().join(format!("portal-mail-locales-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("es")).unwrap();
    std::fs::write(
        dir.join("es/mine.ftl"),
        "mail-invitation-subject = Bienvenido a { $product }\n",
    )
    .unwrap();
    let locales = crate::i18n::Locales::builtin().with_dir(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    let templates = Templates::builtin().with_locales(std::sync::Arc::new(locales.unwrap()));
    templates.validate().unwrap();
    let vars = in_language(MessageKind::Invitation, "es", "UTC");
    let rendered = render(&templates, MessageKind::Invitation, &vars);
    assert_eq!(rendered.subject, "Bienvenido a Client portal");
}
