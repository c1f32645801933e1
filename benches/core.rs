//! Criterion benches of the hot pure code: the password policy, token
//! hashing, parsing, the TOTP check, languages (mail rendered in English and
//! Spanish at enqueue, `Accept-Language` negotiated on every page), and one
//! argon2id verify at the SPEC parameters (the physical limit sign-in
//! throughput is compared against).
//!
//! `cargo bench --bench core`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use portal_access::config::HashingConfig;
use portal_access::service::PortalService;
use portal_access::{EmailAddress, PasswordPolicy, RawToken, Username};
use secrecy::SecretString;

fn policy(c: &mut Criterion) {
    let policy = PasswordPolicy::default();
    let email = EmailAddress::parse("ann.client@example.com").unwrap();
    let username = Username::parse("ann.client").unwrap();
    let good = SecretString::from("correct horse battery staple");
    let common = SecretString::from("passwordpassword");
    c.bench_function("policy_check_eligible_password", |b| {
        b.iter(|| {
            policy
                .check(black_box(&good), Some(&username), &email)
                .is_ok()
        })
    });
    c.bench_function("policy_check_common_password", |b| {
        b.iter(|| {
            policy
                .check(black_box(&common), Some(&username), &email)
                .is_err()
        })
    });
}

fn tokens(c: &mut Criterion) {
    let token = RawToken::from_bytes([42; 32]);
    let text = token.expose().to_owned();
    c.bench_function("token_parse_and_hash", |b| {
        b.iter(|| RawToken::parse(black_box(&text)).unwrap().hash())
    });
    let a = token.hash();
    let b2 = RawToken::from_bytes([43; 32]).hash();
    c.bench_function("token_hash_constant_time_compare", |b| {
        b.iter(|| black_box(&a).ct_eq(black_box(&b2)))
    });
}

fn parsing(c: &mut Criterion) {
    c.bench_function("email_parse_and_normalize", |b| {
        b.iter(|| EmailAddress::parse(black_box("  Ann.Client@Example.COM ")).unwrap())
    });
    c.bench_function("username_parse", |b| {
        b.iter(|| Username::parse(black_box("Joe.Fake_2")).unwrap())
    });
}

fn argon2_verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let service = PortalService::builder(std::sync::Arc::new(
        portal_access::testing::MemoryStore::new(),
    ))
    .build()
    .unwrap();
    assert_eq!(
        service.config().hashing,
        HashingConfig {
            pool_size: service.config().hashing.pool_size,
            ..HashingConfig::default()
        }
    );
    let hasher = service.hasher().clone();
    let hash = runtime
        .block_on(hasher.hash(SecretString::from("correct horse battery staple"), [7; 16]))
        .unwrap();
    let mut group = c.benchmark_group("argon2id_m19456_t2_p1");
    group.sample_size(20);
    group.bench_function("verify_one_on_the_pool", |b| {
        b.to_async(&runtime).iter(|| {
            let hasher = hasher.clone();
            let hash = hash.clone();
            async move {
                hasher
                    .verify(
                        SecretString::from("correct horse battery staple"),
                        Some(hash),
                    )
                    .await
                    .unwrap()
            }
        })
    });
    group.finish();
}

/// The TOTP check alone (three candidate steps, constant-time compare),
/// as a sign-in with an authenticator pays it after the password.
fn totp_check(c: &mut Criterion) {
    use portal_access::core::crypto::totp;
    let secret = [42u8; totp::SECRET_LEN];
    let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let code = format!("{:06}", totp::code_at(&secret, totp::step_of(now)));
    c.bench_function("totp_check_sha1_6_digits_skew_1", |b| {
        b.iter(|| totp::check(black_box(&secret), black_box(&code), now, None).unwrap())
    });
}

/// What languages cost a request: an invitation rendered (subject, text,
/// HTML) in English and in Spanish with its expiry in Chicago time, as a
/// staff invite pays it at enqueue; `Accept-Language` negotiated, as every
/// page pays it.
fn languages(c: &mut Criterion) {
    use portal_access::i18n::Locales;
    use portal_access::mail::Templates;
    use portal_access::MessageKind;
    let templates = Templates::builtin();
    let mut vars = Templates::sample_vars(MessageKind::Invitation);
    c.bench_function("mail_render_invitation_en", |b| {
        b.iter(|| {
            templates
                .render(MessageKind::Invitation, black_box(&vars))
                .unwrap()
        })
    });
    vars["lang"] = "es".into();
    vars["tz"] = "America/Chicago".into();
    c.bench_function("mail_render_invitation_es_chicago", |b| {
        b.iter(|| {
            templates
                .render(MessageKind::Invitation, black_box(&vars))
                .unwrap()
        })
    });
    let locales = Locales::builtin();
    c.bench_function("accept_language_negotiate", |b| {
        b.iter(|| locales.negotiate(black_box("es-MX,es;q=0.9,en-US;q=0.8,en;q=0.7")))
    });
}

criterion_group!(
    benches,
    policy,
    tokens,
    parsing,
    argon2_verify,
    totp_check,
    languages
);
criterion_main!(benches);
