use std::io::Write;

use super::*;

#[test]
fn the_shipped_locales_parse() {
    let locales = Locales::builtin();
    assert_eq!(locales.languages().collect::<Vec<_>>(), vec!["en", "es"]);
}

#[test]
fn every_shipped_language_has_exactly_the_keys_english_has() {
    let locales = Locales::builtin();
    for language in locales.languages() {
        let (extra, missing) = locales.differences(language);
        assert!(
            extra.is_empty() && missing.is_empty(),
            "{language}: keys English lacks: {extra:?}; keys it lacks: {missing:?}"
        );
    }
}

#[test]
fn every_shipped_file_exists_in_every_shipped_language() {
    let files = |tag: &str| -> BTreeSet<&str> {
        BUILTIN
            .iter()
            .filter(|(t, _, _)| *t == tag)
            .map(|(_, file, _)| *file)
            .collect()
    };
    assert_eq!(
        files("en"),
        BTreeSet::from(["console.ftl", "language.ftl", "mail.ftl", "portal.ftl"])
    );
    assert_eq!(files("es"), files("en"));
    let locales = Locales::builtin();
    assert_eq!(
        locales.message("es", "mail-invitation-button", &[]),
        "Activar mi cuenta"
    );
    assert_eq!(
        locales.message("es", "language-save", &[]),
        "Guardar el idioma"
    );
}

#[test]
fn a_language_is_only_made_from_a_tag_the_locales_speak() {
    let locales = Locales::builtin();
    assert_eq!(locales.language("es-MX").unwrap().as_str(), "es");
    assert_eq!(locales.language("EN").unwrap().as_str(), "en");
    assert!(locales.language("fr").is_none());
    assert!(locales.language("").is_none());
}

#[test]
fn accept_language_is_read_by_weight_and_falls_back_to_english() {
    let locales = Locales::builtin();
    assert_eq!(locales.negotiate("en;q=0.4, es;q=0.8"), "es");
    assert_eq!(locales.negotiate("es-US"), "es");
    assert_eq!(locales.negotiate("fr, de;q=0.9"), "en");
    assert_eq!(locales.negotiate("es;q=0, en"), "en");
    assert_eq!(locales.negotiate(""), "en");
    assert_eq!(locales.supported("ES"), Some("es"));
    assert_eq!(locales.supported("pt"), None);
}

#[test]
fn a_missing_message_falls_back_to_english_then_to_its_key() {
    let locales = Locales::builtin();
    assert_eq!(locales.message("fr", "console-sign-in", &[]), "Sign in");
    assert_eq!(locales.message("es", "no-such-key", &[]), "no-such-key");
}

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::File::create(path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    dir
}

#[test]
fn a_host_overrides_a_message_and_adds_a_language_from_a_directory() {
    let dir = dir_with(&[
        ("es/mine.ftl", "console-sign-in = Entrar\n"),
        ("pt-BR/console.ftl", "console-sign-in = Entrar na conta\n"),
    ]);
    let locales = Locales::builtin().with_dir(dir.path()).unwrap();
    assert_eq!(locales.message("es", "console-sign-in", &[]), "Entrar");
    assert_eq!(
        locales.message("pt-BR", "console-sign-in", &[]),
        "Entrar na conta"
    );
    assert_eq!(locales.negotiate("pt-BR"), "pt-BR");
    assert_eq!(
        locales.message("pt-BR", "console-sign-out", &[]),
        "Sign out",
        "what a new language lacks is English"
    );
}

#[test]
fn a_bad_locale_file_is_refused_naming_the_file_and_the_key() {
    let typo = dir_with(&[("es/mine.ftl", "console-sing-in = Entrar\n")]);
    let error = Locales::builtin().with_dir(typo.path()).unwrap_err();
    assert!(matches!(&error, LocaleError::UnknownKey { key, .. } if key == "console-sing-in"));
    assert!(error.to_string().contains("mine.ftl"), "{error}");

    let broken = dir_with(&[("es/mine.ftl", "console-sign-in = { $\n")]);
    let error = Locales::builtin().with_dir(broken.path()).unwrap_err();
    assert!(matches!(error, LocaleError::Syntax { .. }), "{error}");

    let not_a_tag = dir_with(&[("not a language!/x.ftl", "a = b\n")]);
    let error = Locales::builtin().with_dir(not_a_tag.path()).unwrap_err();
    assert!(matches!(error, LocaleError::NotALanguage { .. }), "{error}");
}

#[test]
fn times_are_written_for_the_language_in_the_firms_time_zone() {
    let locales = Locales::builtin();
    let at = time::macros::datetime!(2026-12-05 14:04 UTC);
    let chicago = jiff::tz::TimeZone::get("America/Chicago").unwrap();
    assert_eq!(locales.when("en", at, &chicago), "Dec 5, 2026, 8:04 AM CST");
    assert_eq!(locales.when("es", at, &chicago), "5 dic 2026, 8:04 CST");
    assert_eq!(
        locales.when("en", at, &jiff::tz::TimeZone::UTC),
        "Dec 5, 2026, 2:04 PM UTC"
    );
}
