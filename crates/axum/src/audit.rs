//! `GET /staff/audit?from=&to=&account=&kind=&cursor=&limit=&format=jsonl|csv`:
//! the staff member's tenant's audit trail, in chain order, each event with
//! its sequence number and hash (SPEC.md section 9).
//!
//! Without `format`, one JSON page (`{"events":[…],"next_cursor":…}`); pass
//! `next_cursor` back as `cursor` for the next page (`null`: the last).
//! With `format`, the whole selection streamed as a file, a page at a time
//! from the store, so the server holds one page however long the trail.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use portal_access_core::service::{StaffActor, MAX_AUDIT_PAGE};
use portal_access_core::{AccountId, AuditFilter, AuditKind};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::IntoParams;

use crate::answers::AuditPage;
use crate::error::ApiError;
use crate::export::ExportFormat;
use crate::extract::Staff;
use crate::failure::json_response;
use crate::state::PortalHttp;

/// Events of one JSON page when no `limit` is given.
const DEFAULT_PAGE: u32 = 100;

/// The query string, as given (each value parsed below, with a message).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditParams {
    /// Only events at or after this time (RFC 3339).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Only events at or before this time (RFC 3339).
    #[param(format = DateTime)]
    to: Option<String>,
    /// Only events of this account (its id).
    #[param(format = Uuid)]
    account: Option<String>,
    /// Only events of this kind.
    #[param(value_type = Option<AuditKind>)]
    kind: Option<String>,
    /// A page's `next_cursor`: the page after it.
    cursor: Option<String>,
    /// Events of a JSON page, 1 to 500 (default 100).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// `jsonl` or `csv`: the whole selection as a file.
    format: Option<String>,
}

/// The query string, parsed.
struct Selection {
    filter: AuditFilter,
    after_seq: u64,
    limit: u32,
    format: Option<ExportFormat>,
}

fn time(name: &str, value: Option<&str>) -> Result<Option<OffsetDateTime>, ApiError> {
    value
        .map(|text| {
            OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
                ApiError::validation(format!(
                    "`{name}` must be an RFC 3339 time, e.g. 2026-01-31T00:00:00Z."
                ))
            })
        })
        .transpose()
}

impl AuditParams {
    fn parse(&self) -> Result<Selection, ApiError> {
        let from = time("from", self.from.as_deref())?;
        let to = time("to", self.to.as_deref())?;
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(ApiError::validation("`from` is after `to`."));
            }
        }
        let account = self
            .account
            .as_deref()
            .map(|text| {
                text.parse::<uuid::Uuid>()
                    .map(AccountId::from_uuid)
                    .map_err(|_| ApiError::validation("`account` must be an account id."))
            })
            .transpose()?;
        let kind = self
            .kind
            .as_deref()
            .map(|text| {
                AuditKind::parse(text).ok_or_else(|| {
                    ApiError::validation(
                        "`kind` is not a kind of audit event (see docs/guarantees.md).",
                    )
                })
            })
            .transpose()?;
        let after_seq = match self.cursor.as_deref() {
            None => 0,
            Some(text) => text.parse::<u64>().map_err(|_| {
                ApiError::validation("`cursor` is malformed: pass back a `next_cursor`.")
            })?,
        };
        let limit = match self.limit.as_deref() {
            None => DEFAULT_PAGE,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_AUDIT_PAGE).contains(n))
                .ok_or_else(|| {
                    ApiError::validation(format!(
                        "`limit` must be a whole number from 1 to {MAX_AUDIT_PAGE}."
                    ))
                })?,
        };
        let format = self
            .format
            .as_deref()
            .map(|text| {
                ExportFormat::parse(text)
                    .ok_or_else(|| ApiError::validation("`format` must be jsonl or csv."))
            })
            .transpose()?;
        Ok(Selection {
            filter: AuditFilter {
                from,
                to,
                account,
                kind,
            },
            after_seq,
            limit,
            format,
        })
    }
}

/// The tenant's audit trail in chain order: a JSON page, or with `format` the
/// whole selection streamed as a file.
#[utoipa::path(
    get,
    path = "/staff/audit",
    params(AuditParams),
    responses(
        (
            status = 200,
            description = "A page (JSON), or the file (`format=jsonl`: one event per line; `format=csv`: RFC 4180 with a header).",
            content(
                (AuditPage = "application/json"),
                (String = "application/x-ndjson"),
                (String = "text/csv; charset=utf-8"),
            ),
        ),
    ),
)]
pub(crate) async fn audit_trail(
    State(http): State<PortalHttp>,
    Staff(staff): Staff,
    params: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) =
        params.map_err(|_| ApiError::validation("The query string is malformed."))?;
    let selection = params.parse()?;
    match selection.format {
        None => {
            let events = http
                .service()
                .audit_page(
                    &staff,
                    &selection.filter,
                    selection.after_seq,
                    selection.limit,
                )
                .await?;
            let next_cursor = match events.last() {
                Some(last) if events.len() >= selection.limit as usize => {
                    Some(last.seq.to_string())
                }
                _ => None,
            };
            Ok(json_response(
                StatusCode::OK,
                &AuditPage {
                    events,
                    next_cursor,
                },
            ))
        }
        Some(format) => Ok(stream(http, staff, selection, format)),
    }
}

/// Where a streamed export is.
struct Cursor {
    http: PortalHttp,
    staff: StaffActor,
    filter: AuditFilter,
    after_seq: u64,
    format: ExportFormat,
    header: Option<Vec<u8>>,
    done: bool,
}

impl Cursor {
    /// The next chunk of the file (`None` at its end): the header, then
    /// one encoded page at a time.
    async fn next_chunk(mut self) -> Result<Option<(Vec<u8>, Self)>, std::io::Error> {
        if let Some(header) = self.header.take() {
            return Ok(Some((header, self)));
        }
        if self.done {
            return Ok(None);
        }
        let page = self
            .http
            .service()
            .audit_page(&self.staff, &self.filter, self.after_seq, MAX_AUDIT_PAGE)
            .await
            .map_err(|error| failed("read", &error))?;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        self.after_seq = last.seq;
        self.done = page.len() < MAX_AUDIT_PAGE as usize;
        let bytes = self
            .format
            .page(&page)
            .map_err(|error| failed("encode", &error))?;
        Ok(Some((bytes, self)))
    }
}

/// A failure after the response began: logged, and the body is cut short
/// (the client sees an incomplete transfer, never a partial file as whole).
fn failed(what: &str, error: &(dyn std::error::Error + 'static)) -> std::io::Error {
    tracing::error!(error = %crate::failure::chain(error), "audit export failed to {what}");
    std::io::Error::other("audit export failed")
}

fn stream(
    http: PortalHttp,
    staff: StaffActor,
    selection: Selection,
    format: ExportFormat,
) -> Response {
    let cursor = Cursor {
        http,
        staff,
        filter: selection.filter,
        after_seq: selection.after_seq,
        format,
        header: format.header(),
        done: false,
    };
    let body = Body::from_stream(futures::stream::try_unfold(cursor, Cursor::next_chunk));
    let file = match format {
        ExportFormat::Jsonl => "attachment; filename=\"audit.jsonl\"",
        ExportFormat::Csv => "attachment; filename=\"audit.csv\"",
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(file));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
