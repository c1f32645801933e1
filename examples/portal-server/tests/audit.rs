//! `portal-server audit verify | export | prune` against a real database:
//! events edited, deleted and inserted with raw SQL are named by their
//! sequence number, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Output;

use portal_access::{
    AccountId, AccountStore, Actor, AuditEvent, AuditKind, Changes, EventId, StaffId, TenantId,
};
use portal_access_postgres::testing::TestDatabase;
use time::{Duration, OffsetDateTime};

/// A database with ten chained events of tenant `firm` (the first five 100
/// days old) and one of tenant `other`, and a way to run raw SQL on it.
struct Trail {
    url: String,
    sqlite: Option<sqlx::SqlitePool>,
    postgres: Option<sqlx::PgPool>,
    _dir: Option<tempfile::TempDir>,
    _db: Option<TestDatabase>,
}

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

fn event(tenant: &str, n: u8, at: OffsetDateTime) -> AuditEvent {
    let tenant = TenantId::new(tenant).unwrap();
    AuditEvent {
        id: EventId::from_random([n; 16]),
        tenant: tenant.clone(),
        account_id: Some(AccountId::from_random([1; 16])),
        actor: Actor::Staff {
            tenant,
            staff_id: StaffId::new("alice").unwrap(),
        },
        kind: AuditKind::PasswordResetSent,
        at,
        ip: Some([192, 0, 2, n].into()),
        user_agent: Some("curl/8.5".into()),
        detail: serde_json::json!({ "n": n }),
    }
}

async fn record(store: &dyn AccountStore) {
    let now = OffsetDateTime::now_utc();
    for n in 1..=10u8 {
        let at = if n <= 5 {
            now - Duration::days(100)
        } else {
            now
        };
        let changes = Changes {
            audit: vec![event("firm", n, at)],
            ..Changes::default()
        };
        store.commit(changes).await.unwrap();
    }
    let other = Changes {
        audit: vec![event("other", 99, now)],
        ..Changes::default()
    };
    store.commit(other).await.unwrap();
}

impl Trail {
    async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("portal.db").display());
                let store = portal_access::sqlite::SqliteStore::connect(&url)
                    .await
                    .unwrap();
                record(&store).await;
                Self {
                    url,
                    sqlite: Some(store.pool().clone()),
                    postgres: None,
                    _dir: Some(dir),
                    _db: None,
                }
            }
            Backend::Postgres => {
                let db = TestDatabase::create().await;
                let store = db.store(4).await;
                record(&store).await;
                Self {
                    url: db.url(),
                    sqlite: None,
                    postgres: Some(store.pool().clone()),
                    _dir: None,
                    _db: Some(db),
                }
            }
        }
    }

    /// Runs `sql` (`{id}`: a fresh id expression of the database).
    async fn sql(&self, sql: &str) {
        if let Some(pool) = &self.sqlite {
            let sql = sql.replace("{id}", "randomblob(16)");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                .execute(pool)
                .await
                .unwrap();
        }
        if let Some(pool) = &self.postgres {
            let sql = sql.replace("{id}", "gen_random_uuid()");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                .execute(pool)
                .await
                .unwrap();
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_portal-server"))
            .args(["--database-url", &self.url])
            .args(args)
            .env("PORTAL_LOG", "error")
            .output()
            .unwrap()
    }

    /// `audit verify --tenant firm`: whether it passed, and what it said.
    fn verify(&self) -> (bool, String) {
        let output = self.run(&["audit", "verify", "--tenant", "firm"]);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), said)
    }
}

impl Trail {
    /// Tampers with the trail by `sql`; verification then fails, naming
    /// `expected`.
    async fn tamper(&self, sql: &str, expected: &str) {
        self.sql(sql).await;
        assert_broken_at(self.verify(), expected);
    }

    /// Verification passes and says `expected`.
    fn assert_verifies(&self, expected: &str) {
        let (passed, said) = self.verify();
        assert!(passed, "{said}");
        assert!(said.contains(expected), "{said}");
    }

    /// Exports the trail of `tenant` in `format` to `out`; the lines written.
    fn export(&self, format: &str, out: &std::path::Path, tenant: &str) -> String {
        let output = self.run(&[
            "audit",
            "export",
            "--format",
            format,
            "--out",
            out.to_str().unwrap(),
            "--tenant",
            tenant,
        ]);
        assert!(output.status.success(), "{output:?}");
        std::fs::read_to_string(out).unwrap()
    }
}

/// A fresh trail tampered with by `sql`: verification fails, naming `expected`.
async fn tampering_is_named(backend: Backend, sql: &str, expected: &str) {
    Trail::new(backend).await.tamper(sql, expected).await;
}

fn assert_broken_at(verdict: (bool, String), expected: &str) {
    let (passed, said) = verdict;
    assert!(!passed, "verify passed: {said}");
    assert!(said.contains(expected), "expected {expected:?} in: {said}");
}

async fn an_untouched_trail_verifies_for_every_tenant(backend: Backend) {
    let trail = Trail::new(backend).await;
    let output = trail.run(&["audit", "verify"]);
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{said}");
    assert!(
        said.contains("tenant firm: the chain holds through event 10"),
        "{said}"
    );
    assert!(
        said.contains("tenant other: the chain holds through event 1"),
        "{said}"
    );
}

async fn an_edited_event_is_named_by_its_sequence_number(backend: Backend) {
    let edit =
        "UPDATE audit_events SET user_agent = 'forged' WHERE tenant = 'firm' AND chain_seq = 4";
    tampering_is_named(backend, edit, "event 4 was changed").await;
}

async fn an_edited_detail_or_kind_is_caught_too(backend: Backend) {
    let edit = "UPDATE audit_events SET kind = 'signed_in' WHERE tenant = 'firm' AND chain_seq = 7";
    tampering_is_named(backend, edit, "event 7 was changed").await;
}

async fn a_deleted_event_is_named_in_the_middle_and_at_the_end(backend: Backend) {
    let middle = "DELETE FROM audit_events WHERE tenant = 'firm' AND chain_seq = 6";
    tampering_is_named(backend, middle, "event 6 was removed").await;
    let end = "DELETE FROM audit_events WHERE tenant = 'firm' AND chain_seq = 10";
    tampering_is_named(backend, end, "event 10 was removed").await;
}

async fn an_inserted_event_is_named_by_its_sequence_number(backend: Backend) {
    let insert = "INSERT INTO audit_events (id, tenant, account_id, actor, kind, at, ip, \
                  user_agent, detail, chain_seq, hash) SELECT {id}, tenant, account_id, actor, \
                  'signed_in', at, ip, user_agent, detail, 11, hash FROM audit_events \
                  WHERE tenant = 'firm' AND chain_seq = 10";
    tampering_is_named(backend, insert, "event 11 was inserted").await;
}

async fn a_replaced_event_is_named_as_changed(backend: Backend) {
    let replace = "UPDATE audit_events SET id = {id}, detail = (SELECT detail FROM audit_events \
                   WHERE tenant = 'firm' AND chain_seq = 2) WHERE tenant = 'firm' AND chain_seq = 3";
    tampering_is_named(backend, replace, "event 3 was changed").await;
}

async fn retention_prunes_a_prefix_and_verify_still_passes_and_still_catches_edits(
    backend: Backend,
) {
    let trail = Trail::new(backend).await;
    let output = trail.run(&["--audit-retention-days", "30", "audit", "prune"]);
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{said}");
    assert!(said.contains("removed 5 events"), "{said}");
    trail.assert_verifies("holds through event 10");

    trail
        .tamper(
            "UPDATE audit_events SET ip = '198.51.100.1' WHERE tenant = 'firm' AND chain_seq = 8",
            "event 8 was changed",
        )
        .await;
    trail
        .tamper(
            "DELETE FROM audit_events WHERE tenant = 'firm' AND chain_seq = 6",
            "event 6 was removed",
        )
        .await;
}

async fn events_from_before_the_chain_leave_the_database_verifiable(backend: Backend) {
    let trail = Trail::new(backend).await;
    // What the migration leaves on an existing database: events without a
    // sequence number or hash.
    trail
        .sql(
            "INSERT INTO audit_events (id, tenant, account_id, actor, kind, at, ip, user_agent, \
             detail) SELECT {id}, tenant, account_id, actor, 'signed_in', at, ip, user_agent, \
             detail FROM audit_events WHERE tenant = 'firm' AND chain_seq = 1",
        )
        .await;
    trail.assert_verifies("holds through event 10");
}

async fn export_writes_the_tenants_trail_as_csv_and_jsonl(backend: Backend) {
    let trail = Trail::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("audit.csv");
    let text = trail.export("csv", &csv, "firm");
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 11);
    assert!(lines[0].starts_with("seq,hash,id,at,"));
    assert!(lines[10].starts_with("10,"));

    let jsonl = dir.path().join("audit.jsonl");
    let text = trail.export("jsonl", &jsonl, "other");
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["tenant"], "other");
    assert_eq!(rows[0]["seq"], 1);
}

macro_rules! on_both_databases {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Backend::Postgres).await
                }
            )*
        }
    };
}

on_both_databases!(
    an_untouched_trail_verifies_for_every_tenant,
    an_edited_event_is_named_by_its_sequence_number,
    an_edited_detail_or_kind_is_caught_too,
    a_deleted_event_is_named_in_the_middle_and_at_the_end,
    an_inserted_event_is_named_by_its_sequence_number,
    a_replaced_event_is_named_as_changed,
    retention_prunes_a_prefix_and_verify_still_passes_and_still_catches_edits,
    events_from_before_the_chain_leave_the_database_verifiable,
    export_writes_the_tenants_trail_as_csv_and_jsonl,
);
