//! `portal-server audit verify | export | prune`: the audit trail from the
//! command line (SPEC.md section 9; docs/audit.md).

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use portal_access::audit::{prune_before, verify_chain, AuditPages, PAGE_SIZE};
use portal_access::axum::export::ExportFormat;
use portal_access::{AccountStore, AuditQuery, TenantId};

use crate::cli::{AuditCommand, FileFormat, ServerConfig};
use crate::error::portal_access_error_chain;

impl From<FileFormat> for ExportFormat {
    fn from(format: FileFormat) -> Self {
        match format {
            FileFormat::Jsonl => Self::Jsonl,
            FileFormat::Csv => Self::Csv,
        }
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Runs an `audit` command on `store` (opened from `--database-url`); the
/// exit code says whether the trail held.
pub async fn run(
    config: &ServerConfig,
    command: &AuditCommand,
    store: Arc<dyn AccountStore>,
) -> Result<ExitCode, Failure> {
    match command {
        AuditCommand::Verify { tenant } => {
            let tenants = match tenant {
                Some(name) => vec![TenantId::new(name.as_str())?],
                None => store.audit_tenants().await?,
            };
            verify(store.as_ref(), &tenants).await
        }
        AuditCommand::Export {
            format,
            out,
            tenant,
        } => {
            let tenant = TenantId::new(tenant.as_deref().unwrap_or(&config.tenant))?;
            let written = export(store.as_ref(), &tenant, (*format).into(), out).await?;
            println!(
                "tenant {tenant}: {written} events written to {}",
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Prune => {
            let Some(days) = config.audit_retention_days else {
                return Err("audit prune needs --audit-retention-days N".into());
            };
            let removed = prune(store.as_ref(), days).await?;
            println!("removed {removed} events older than {days} days");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn verify(store: &dyn AccountStore, tenants: &[TenantId]) -> Result<ExitCode, Failure> {
    let mut held = true;
    for tenant in tenants {
        match verify_chain(store, tenant).await? {
            Ok(head) => println!(
                "tenant {tenant}: the chain holds through event {} (head hash {})",
                head.seq, head.hash
            ),
            Err(found) => {
                eprintln!("tenant {tenant}: {found}");
                held = false;
            }
        }
    }
    Ok(if held {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Writes `tenant`'s trail to `out`; returns how many events.
pub async fn export(
    store: &dyn AccountStore,
    tenant: &TenantId,
    format: ExportFormat,
    out: &std::path::Path,
) -> Result<u64, Failure> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    if let Some(header) = format.header() {
        file.write_all(&header)?;
    }
    let mut pages = AuditPages::new(AuditQuery::all(tenant.clone(), PAGE_SIZE));
    let mut written = 0;
    while let Some(page) = pages.next(store).await? {
        file.write_all(&format.page(&page)?)?;
        written += page.len() as u64;
    }
    file.flush()?;
    Ok(written)
}

/// Removes, on every tenant's chain, the prefix of events older than `days`.
pub async fn prune(store: &dyn AccountStore, days: u32) -> Result<u64, portal_access::StoreError> {
    let before = time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(days));
    prune_before(store, before).await
}

/// With --audit-retention-days: prunes at start and then every hour, until
/// the process ends (a failure is logged and retried at the next hour).
pub fn spawn_retention(store: std::sync::Arc<dyn AccountStore>, days: u32) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3_600));
        loop {
            every.tick().await;
            match prune(store.as_ref(), days).await {
                Ok(removed) => tracing::info!(removed, days, "audit retention applied"),
                Err(error) => {
                    tracing::error!(error = %portal_access_error_chain(&error), "audit retention failed")
                }
            }
        }
    });
}
