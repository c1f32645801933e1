use time::Duration;

use super::*;
use crate::workflow::attribution::fixtures::*;
use crate::{NewMessage, TokenHash};

fn message(
    seed: u8,
    kind: MessageKind,
    token: Option<TokenHash>,
    state: DeliveryState,
) -> OutboxMessage {
    OutboxMessage {
        message: NewMessage {
            id: MessageId::from_random([seed; 16]),
            tenant: tenant(),
            account_id: Some(accepted().id),
            kind,
            to: "Ann.Client@example.com".into(),
            to_name: None,
            subject: format!("subject {seed}"),
            text_body: String::new(),
            html_body: String::new(),
            token_hash: token,
            token_expires_at: token.map(|_| now() + Duration::hours(1)),
            created_at: now() - Duration::minutes(i64::from(seed)),
        },
        state,
        attempts: u32::from(state != DeliveryState::Queued),
        next_attempt_at: now() + Duration::minutes(5),
        last_error: (state == DeliveryState::Retrying).then(|| "421 try later".into()),
        sent_at: (state == DeliveryState::Sent).then(now),
        failed_at: None,
        redacted: false,
    }
}

fn status_of(
    account: &Account,
    messages: &[OutboxMessage],
    tokens: &[TokenRecord],
    openings: &[LinkOpening],
) -> AccountStatus {
    account_status(
        account,
        messages,
        tokens,
        openings,
        true,
        &MfaPolicy::default(),
        now(),
    )
}

fn record(seed: u8, kind: TokenKind) -> TokenRecord {
    TokenRecord {
        hash: token(seed).hash(),
        kind,
        tenant: tenant(),
        account_id: accepted().id,
        created_at: now() - Duration::minutes(30),
        expires_at: now() + Duration::minutes(30),
        used_at: None,
        revoked_at: None,
        message_id: None,
    }
}

fn opening(seed: u8, minutes_ago: i64, user_agent: &str) -> LinkOpening {
    LinkOpening {
        token_hash: token(seed).hash(),
        account_id: accepted().id,
        tenant: tenant(),
        at: now() - Duration::minutes(minutes_ago),
        ip: Some("198.51.100.4".parse().unwrap()),
        user_agent: Some(user_agent.into()),
    }
}

#[test]
fn staff_view_offers_send_invitation_for_a_never_invited_account() {
    let actions = available_actions(&not_invited(), true);
    assert!(actions.contains(&StaffAction::SendInvitation));
    assert!(!actions.contains(&StaffAction::ResendInvitation));
    assert!(!actions.contains(&StaffAction::SendPasswordReset));
}

#[test]
fn staff_view_offers_resend_invitation_for_a_pending_invitation() {
    let actions = available_actions(&pending(), true);
    assert!(actions.contains(&StaffAction::ResendInvitation));
    assert!(!actions.contains(&StaffAction::SendInvitation));
}

#[test]
fn staff_view_offers_neither_invitation_action_once_accepted() {
    let actions = available_actions(&accepted(), true);
    assert!(!actions.contains(&StaffAction::SendInvitation));
    assert!(!actions.contains(&StaffAction::ResendInvitation));
    assert!(actions.contains(&StaffAction::SendPasswordReset));
    assert!(actions.contains(&StaffAction::DisableAccess));
}

#[test]
fn staff_view_of_an_archived_account_offers_only_unarchive() {
    let archived = Account {
        archived: true,
        ..accepted()
    };
    assert_eq!(
        available_actions(&archived, true),
        vec![StaffAction::Unarchive]
    );
}

#[test]
fn without_a_mailer_no_link_sending_action_is_offered() {
    let actions = available_actions(&accepted(), false);
    assert!(!actions.contains(&StaffAction::SendPasswordReset));
    assert!(actions.contains(&StaffAction::SetPassword));
    assert!(!available_actions(&pending(), false).contains(&StaffAction::ResendInvitation));
}

#[test]
fn a_disabled_account_offers_enable_access_and_no_reset() {
    let disabled = Account {
        access: Access::Disabled,
        ..accepted()
    };
    let actions = available_actions(&disabled, true);
    assert!(actions.contains(&StaffAction::EnableAccess));
    assert!(!actions.contains(&StaffAction::SendPasswordReset));
}

#[test]
fn delivery_timeline_shows_retrying_with_the_last_error() {
    let messages = [message(
        1,
        MessageKind::PasswordReset,
        None,
        DeliveryState::Retrying,
    )];
    let status = status_of(&accepted(), &messages, &[], &[]);
    let json = serde_json::to_value(&status).unwrap();
    let m = &json["messages"][0];
    assert_eq!(m["state"], "retrying");
    assert_eq!(m["last_error"], "421 try later");
    assert_eq!(m["attempts"], 1);
    assert_eq!(m["next_attempt_at"], "2026-03-02T10:05:00Z");
    assert!(m.get("link").is_none());
}

#[test]
fn delivery_timeline_shows_a_link_opened_but_not_used() {
    let messages = [message(
        1,
        MessageKind::PasswordReset,
        Some(token(1).hash()),
        DeliveryState::Sent,
    )];
    let tokens = [record(1, TokenKind::PasswordReset)];
    let openings = [
        opening(1, 2, "Mozilla/5.0 Firefox/121.0"),
        opening(1, 9, "SafeLinks scanner"),
        opening(2, 1, "elsewhere"),
    ];
    let status = status_of(&accepted(), &messages, &tokens, &openings);
    let link = status.messages[0].link.as_ref().unwrap();
    assert_eq!(link.state, TokenState::Valid);
    assert_eq!(link.openings.len(), 2);
    assert_eq!(
        link.openings[1].user_agent.as_deref(),
        Some("SafeLinks scanner")
    );
    assert_eq!(status.messages[0].sent_at, Some(now()));
    assert_eq!(status.messages[0].next_attempt_at, None);
}

#[test]
fn delivery_timeline_shows_used_superseded_and_expired_links() {
    let messages = [
        message(
            1,
            MessageKind::Reinvitation,
            Some(token(1).hash()),
            DeliveryState::Sent,
        ),
        message(
            2,
            MessageKind::Invitation,
            Some(token(2).hash()),
            DeliveryState::Sent,
        ),
        message(
            3,
            MessageKind::Invitation,
            Some(token(3).hash()),
            DeliveryState::Sent,
        ),
    ];
    let used = TokenRecord {
        used_at: Some(now() - Duration::minutes(1)),
        ..record(1, TokenKind::Invitation)
    };
    let superseded = TokenRecord {
        revoked_at: Some(now() - Duration::minutes(10)),
        ..record(2, TokenKind::Invitation)
    };
    let expired = TokenRecord {
        expires_at: now() - Duration::days(1),
        ..record(3, TokenKind::Invitation)
    };
    let status = status_of(&accepted(), &messages, &[used, superseded, expired], &[]);
    let states: Vec<TokenState> = status
        .messages
        .iter()
        .map(|m| m.link.as_ref().unwrap().state)
        .collect();
    assert_eq!(
        states,
        [
            TokenState::Used,
            TokenState::Superseded,
            TokenState::Expired
        ]
    );
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["messages"][0]["link"]["state"], "used");
    assert_eq!(
        json["messages"][1]["link"]["superseded_at"],
        "2026-03-02T09:50:00Z"
    );
}

#[test]
fn status_json_has_the_contract_fields() {
    let status = status_of(&pending(), &[], &[], &[]);
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["email"], "Ann.Client@example.com");
    assert_eq!(json["invitation"]["state"], "pending");
    assert_eq!(json["invitation"]["sent_at"], "2026-03-02T09:00:00Z");
    assert!(json["invitation"].get("accepted_at").is_none());
    assert_eq!(json["access"], "enabled");
    assert_eq!(json["archived"], false);
    assert_eq!(json["has_password"], false);
    assert_eq!(json["last_sign_in_at"], serde_json::Value::Null);
    assert!(json["available_actions"]
        .as_array()
        .unwrap()
        .contains(&"resend_invitation".into()));
}

#[test]
fn mfa_reset_is_offered_only_when_a_factor_is_enrolled() {
    let bare = accepted();
    assert!(!available_actions(&bare, true).contains(&StaffAction::MfaReset));
    let mut enrolled = accepted();
    enrolled.mfa.email = Some(crate::domain::factor::EmailFactor {
        created_at: now(),
        last_used_at: None,
    });
    assert!(available_actions(&enrolled, true).contains(&StaffAction::MfaReset));
    let archived = Account {
        archived: true,
        ..enrolled
    };
    assert!(!available_actions(&archived, true).contains(&StaffAction::MfaReset));
}

#[test]
fn the_status_counts_live_sessions_and_remembered_devices_and_shows_who_reset_the_factor() {
    let mut account = accepted();
    account.mfa.last_reset = Some(crate::domain::factor::MfaResetMark {
        by: crate::StaffId::new("bob").unwrap(),
        at: now(),
    });
    let live = crate::workflow::session::issue(
        &account,
        token(40).hash(),
        &Default::default(),
        now() - Duration::minutes(5),
        Duration::days(30),
    );
    let expired = SessionRecord {
        hash: token(41).hash(),
        expires_at: now(),
        ..live.clone()
    };
    let device = crate::workflow::trust::remember_device(
        &account,
        &token(42),
        &Default::default(),
        &MfaPolicy::default(),
        now(),
    )
    .unwrap();
    let status = status_of(&account, &[], &[], &[]).with_trust(
        &[live.clone(), expired],
        &[device],
        Duration::hours(12),
        now(),
    );
    assert_eq!(status.sessions.active, 1);
    assert_eq!(status.sessions.last_seen_at, Some(live.last_seen_at));
    assert_eq!(status.mfa.remembered_devices, 1);
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["mfa"]["last_reset"]["by"], "bob");
    assert_eq!(json["mfa"]["remembered_devices"], 1);
    assert_eq!(json["sessions"]["active"], 1);
}
