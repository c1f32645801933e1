#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use time::macros::datetime;

use super::*;
use crate::{Actor, EventId, StaffId};

fn event(n: u8) -> AuditEvent {
    let tenant = TenantId::new("firm").unwrap();
    AuditEvent {
        id: EventId::from_random([n; 16]),
        tenant: tenant.clone(),
        account_id: Some(AccountId::from_random([7; 16])),
        actor: Actor::Staff {
            tenant,
            staff_id: StaffId::new("staff-1").unwrap(),
        },
        kind: AuditKind::PasswordResetSent,
        at: datetime!(2026-12-05 01:02:03.456_789_999 UTC),
        ip: Some(IpAddr::from([192, 0, 2, 7])),
        user_agent: Some("curl/8.5".into()),
        detail: serde_json::json!({ "zeta": 1, "alpha": { "b": [true, null], "a": "ü\"" } }),
    }
}

fn chain(events: &[AuditEvent]) -> Vec<ChainedEvent> {
    let mut point = ChainPoint::START;
    events
        .iter()
        .map(|event| {
            point = point.next(event);
            ChainedEvent {
                seq: point.seq,
                hash: point.hash,
                event: event.clone(),
            }
        })
        .collect()
}

fn ends(stored: &[ChainedEvent]) -> ChainEnds {
    let last = stored.last().unwrap();
    ChainEnds {
        checkpoint: ChainPoint::START,
        head: ChainPoint {
            seq: last.seq,
            hash: last.hash,
        },
    }
}

fn verify(stored: &[ChainedEvent], ends: ChainEnds) -> Result<ChainPoint, ChainBreak> {
    let mut verifier = ChainVerifier::new(ends);
    for event in stored {
        verifier.check(event)?;
    }
    verifier.finish()
}

#[test]
fn the_canonical_body_of_version_1_is_compact_sorted_json_at_the_microsecond() {
    let body = String::from_utf8(canonical_body(&event(1))).unwrap();
    assert_eq!(
        body,
        concat!(
            r#"{"account_id":"07070707-0707-4707-8707-070707070707","#,
            r#""actor":{"staff_id":"staff-1","tenant":"firm","type":"staff"},"#,
            r#""at_us":1796432523456789,"#,
            r#""detail":{"alpha":{"a":"ü\"","b":[true,null]},"zeta":1},"#,
            r#""id":"01010101-0101-4101-8101-010101010101","#,
            r#""ip":"192.0.2.7","kind":"password_reset_sent","tenant":"firm","#,
            r#""user_agent":"curl/8.5","v":1}"#
        )
    );
}

#[test]
fn the_first_link_hashes_genesis_the_big_endian_sequence_and_the_body() {
    let body = canonical_body(&event(1));
    let mut input = vec![0u8; 32];
    input.extend_from_slice(&1u64.to_be_bytes());
    input.extend_from_slice(&body);
    let expected: [u8; 32] = Sha256::digest(&input).into();
    assert_eq!(ChainPoint::START.next(&event(1)).hash.as_bytes(), &expected);
}

#[test]
fn a_hash_prints_as_hex_and_parses_back() {
    let hash = ChainPoint::START.next(&event(1)).hash;
    let text = hash.to_string();
    assert_eq!(text.len(), 64);
    assert_eq!(ChainHash::parse_hex(&text), Some(hash));
    assert_eq!(ChainHash::parse_hex(&text.to_uppercase()), Some(hash));
    assert_eq!(ChainHash::parse_hex("zz"), None);
    assert_eq!(ChainHash::from_slice(&[1; 31]), None);
}

#[test]
fn an_intact_chain_verifies_to_its_head() {
    let stored = chain(&[event(1), event(2), event(3)]);
    let head = verify(&stored, ends(&stored)).unwrap();
    assert_eq!(head.seq, 3);
}

#[test]
fn a_changed_event_is_named_by_its_sequence_number() {
    let mut stored = chain(&[event(1), event(2), event(3)]);
    let ends = ends(&stored);
    stored[1].event.user_agent = Some("forged".into());
    assert_eq!(verify(&stored, ends), Err(ChainBreak::Changed { seq: 2 }));
}

#[test]
fn a_removed_event_is_named_whether_in_the_middle_or_at_the_end() {
    let mut stored = chain(&[event(1), event(2), event(3)]);
    let ends = ends(&stored);
    let mut middle = stored.clone();
    middle.remove(1);
    assert_eq!(verify(&middle, ends), Err(ChainBreak::Removed { seq: 2 }));
    stored.pop();
    assert_eq!(verify(&stored, ends), Err(ChainBreak::Removed { seq: 3 }));
}

#[test]
fn an_event_beyond_the_head_is_named_as_inserted() {
    let mut stored = chain(&[event(1), event(2), event(3)]);
    let ends = ends(&stored[..2]);
    stored[2].seq = 3;
    assert_eq!(verify(&stored, ends), Err(ChainBreak::Inserted { seq: 3 }));
}

#[test]
fn a_chain_pruned_to_a_checkpoint_verifies_from_there() {
    let stored = chain(&[event(1), event(2), event(3)]);
    let mut ends = ends(&stored);
    ends.checkpoint = ChainPoint {
        seq: stored[0].seq,
        hash: stored[0].hash,
    };
    assert_eq!(verify(&stored[1..], ends).unwrap().seq, 3);
    let mut edited = stored[1..].to_vec();
    edited[1].event.kind = AuditKind::SignedIn;
    assert_eq!(verify(&edited, ends), Err(ChainBreak::Changed { seq: 3 }));
}

#[test]
fn a_head_that_disagrees_with_the_last_event_is_reported() {
    let stored = chain(&[event(1), event(2)]);
    let mut ends = ends(&stored);
    ends.head.hash = ChainHash::GENESIS;
    assert_eq!(
        verify(&stored, ends),
        Err(ChainBreak::HeadMismatch { seq: 2 })
    );
}

#[test]
fn a_query_matches_only_its_tenant_window_account_and_kind() {
    let e = event(1);
    let mut query = AuditQuery::all(e.tenant.clone(), 10);
    assert!(query.matches(&e));
    query.filter.kind = Some(AuditKind::SignedIn);
    assert!(!query.matches(&e));
    query.filter.kind = Some(e.kind);
    query.filter.from = Some(e.at + time::Duration::SECOND);
    assert!(!query.matches(&e));
    query.filter.from = None;
    query.filter.to = Some(e.at);
    assert!(query.matches(&e));
    query.filter.account = Some(AccountId::from_random([9; 16]));
    assert!(!query.matches(&e));
}
