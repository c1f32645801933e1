//! The audit trail as a file: JSON Lines or CSV (RFC 4180), written a page
//! at a time, the same bytes from `GET /staff/audit?format=…` and from
//! `portal-server audit export`.
//!
//! ```
//! use portal_access_axum::export::ExportFormat;
//! let format = ExportFormat::parse("csv").unwrap();
//! let header = format.header().unwrap();
//! assert!(header.starts_with(b"seq,hash,id,at,"));
//! ```

use portal_access_core::{Actor, ChainedEvent};
use time::format_description::well_known::Rfc3339;

/// A file format of the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object a line (`application/x-ndjson`).
    Jsonl,
    /// Comma-separated values with a header row, RFC 4180 quoting (`text/csv`).
    Csv,
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 12] = [
    "seq",
    "hash",
    "id",
    "at",
    "tenant",
    "account_id",
    "actor_type",
    "actor_id",
    "kind",
    "ip",
    "user_agent",
    "detail",
];

/// An export that could not be encoded.
#[derive(Debug, thiserror::Error)]
#[error("the audit export could not be encoded")]
pub struct ExportError(#[source] Box<dyn std::error::Error + Send + Sync>);

impl ExportFormat {
    /// `jsonl` or `csv`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "jsonl" => Some(Self::Jsonl),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }

    /// The media type of the whole file.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jsonl => "application/x-ndjson",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }

    /// What the file starts with (the CSV header row), if anything.
    pub fn header(self) -> Option<Vec<u8>> {
        match self {
            Self::Jsonl => None,
            Self::Csv => csv_rows(std::iter::once(CSV_COLUMNS.map(String::from))).ok(),
        }
    }

    /// One page of events, encoded.
    pub fn page(self, events: &[ChainedEvent]) -> Result<Vec<u8>, ExportError> {
        match self {
            Self::Jsonl => {
                let mut out = Vec::with_capacity(events.len() * 400);
                for event in events {
                    serde_json::to_writer(&mut out, event).map_err(|e| ExportError(e.into()))?;
                    out.push(b'\n');
                }
                Ok(out)
            }
            Self::Csv => csv_rows(events.iter().map(csv_record)),
        }
    }
}

fn csv_rows(rows: impl Iterator<Item = [String; 12]>) -> Result<Vec<u8>, ExportError> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in rows {
        writer
            .write_record(&row)
            .map_err(|e| ExportError(e.into()))?;
    }
    writer.into_inner().map_err(|e| ExportError(e.into()))
}

fn csv_record(chained: &ChainedEvent) -> [String; 12] {
    let event = &chained.event;
    let (actor_type, actor_id) = match &event.actor {
        Actor::Staff { staff_id, .. } => ("staff", staff_id.as_str().to_owned()),
        Actor::Client { account_id } => ("client", account_id.to_string()),
        Actor::System => ("system", String::new()),
    };
    [
        chained.seq.to_string(),
        chained.hash.to_string(),
        event.id.to_string(),
        event.at.format(&Rfc3339).unwrap_or_default(),
        event.tenant.to_string(),
        event.account_id.map(|a| a.to_string()).unwrap_or_default(),
        actor_type.to_owned(),
        actor_id,
        event.kind.as_str().to_owned(),
        event.ip.map(|ip| ip.to_string()).unwrap_or_default(),
        event.user_agent.clone().unwrap_or_default(),
        event.detail.to_string(),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use portal_access_core::{
        AccountId, AuditEvent, AuditKind, ChainPoint, EventId, StaffId, TenantId,
    };
    use time::macros::datetime;

    use super::*;

    fn chained() -> ChainedEvent {
        let tenant = TenantId::new("firm").unwrap();
        let event = AuditEvent {
            id: EventId::from_random([1; 16]),
            tenant: tenant.clone(),
            account_id: Some(AccountId::from_random([2; 16])),
            actor: Actor::Staff {
                tenant,
                staff_id: StaffId::new("bob").unwrap(),
            },
            kind: AuditKind::EmailChanged,
            at: datetime!(2026-12-05 01:00 UTC),
            ip: None,
            user_agent: Some("Agent \"quoted\", with comma\nand newline".into()),
            detail: serde_json::json!({ "old": "a@example.com" }),
        };
        let point = ChainPoint::START.next(&event);
        ChainedEvent {
            seq: point.seq,
            hash: point.hash,
            event,
        }
    }

    #[test]
    fn csv_quotes_commas_quotes_and_line_breaks_as_rfc_4180_says() {
        let event = chained();
        let bytes = ExportFormat::Csv
            .page(std::slice::from_ref(&event))
            .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.ends_with("\r\n"), "{text}");
        assert!(
            text.contains(",\"Agent \"\"quoted\"\", with comma\nand newline\","),
            "{text}"
        );
        assert!(
            text.contains(",\"{\"\"old\"\":\"\"a@example.com\"\"}\"\r\n"),
            "{text}"
        );
        let file = [ExportFormat::Csv.header().unwrap(), text.into_bytes()].concat();
        let mut reader = csv::Reader::from_reader(file.as_slice());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[0], "1");
        assert_eq!(&record[1], event.hash.to_string());
        assert_eq!(&record[3], "2026-12-05T01:00:00Z");
        assert_eq!(&record[6], "staff");
        assert_eq!(&record[7], "bob");
        assert_eq!(&record[8], "email_changed");
        assert_eq!(&record[10], "Agent \"quoted\", with comma\nand newline");
    }

    #[test]
    fn jsonl_writes_one_object_a_line_with_seq_and_hash() {
        let event = chained();
        let bytes = ExportFormat::Jsonl
            .page(&[event.clone(), event.clone()])
            .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let row: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(row["seq"], 1);
        assert_eq!(row["hash"], event.hash.to_string());
        assert_eq!(row["kind"], "email_changed");
        assert_eq!(ExportFormat::Jsonl.header(), None);
    }

    #[test]
    fn only_jsonl_and_csv_are_formats() {
        assert_eq!(ExportFormat::parse("jsonl"), Some(ExportFormat::Jsonl));
        assert_eq!(ExportFormat::parse("csv"), Some(ExportFormat::Csv));
        assert_eq!(ExportFormat::parse("xml"), None);
        assert_eq!(ExportFormat::parse("CSV"), None);
    }
}
