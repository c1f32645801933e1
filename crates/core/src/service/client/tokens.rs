//! The link pages that spend a token to set a password: completing a reset
//! and accepting an invitation.

use secrecy::SecretString;

use super::super::notice::PasswordChangeReason;
use super::super::transaction::Step;
use super::super::{infra, PortalService, ServiceError};
use super::{AcceptInvitationError, CompleteResetError};
use super::{PreparedPassword, SignInOutcome};
use crate::workflow::accept_invitation::{
    check_invitation_token, decide_accept_invitation, parse_username, AcceptInvitationInput,
};
use crate::workflow::change_password::check_new_password;
use crate::workflow::complete_reset::{
    check_reset_token, decide_complete_reset, CompleteResetInput,
};
use crate::workflow::second_factor::gate_link_sign_in;
use crate::workflow::Refusal;
use crate::{RawToken, RequestContext, StoreError, TokenHash};

/// The hash of a link's token, or `invalid` when it is not a token at all.
pub(super) fn token_hash<E: Refusal>(
    token: &str,
    invalid: E,
) -> Result<TokenHash, ServiceError<E>> {
    RawToken::parse(token)
        .map(|raw| raw.hash())
        .map_err(|_| ServiceError::Refused(invalid))
}

impl PortalService {
    /// Completes a password reset with the link's token: sets the password,
    /// revokes every other reset link and every session, clears the sign-in
    /// throttle, signs the client in with a fresh session and queues the
    /// password-changed notice. Any unusable token is `token_invalid`; of
    /// concurrent redemptions of one token exactly one succeeds. An account
    /// with a factor stronger than the inbox (TOTP), or one that must enrol,
    /// gets a challenge instead of the session: the new password stands.
    pub async fn reset_password(
        &self,
        ctx: &RequestContext,
        token: &str,
        password: SecretString,
        password_confirmation: SecretString,
    ) -> Result<SignInOutcome, ServiceError<CompleteResetError>> {
        let result = async {
            let refused = ServiceError::Refused;
            let hash = &token_hash(token, CompleteResetError::TokenInvalid)?;
            let now = self.now();
            let config = self.config();
            let (password, password_confirmation) = (&password, &password_confirmation);
            let load = move || {
                self.load_usable_token(
                    hash,
                    now,
                    check_reset_token,
                    CompleteResetError::TokenInvalid,
                )
            };
            let first = load().await?;
            let new_hash = self
                .hash_new_password(
                    password,
                    password_confirmation,
                    first.1.username.as_ref(),
                    &first.1.email,
                )
                .await
                .map_err(|e| e.map_refusal(CompleteResetError::from))?;
            // After a conflict the username or address may have changed: the
            // password is checked again (not hashed again).
            let reload = move |_| async move {
                let (record, account) = load().await?;
                check_new_password(
                    &config.password_policy,
                    password,
                    password_confirmation,
                    account.username.as_ref(),
                    &account.email,
                )
                .map_err(|e| refused(e.into()))?;
                Ok((record, account))
            };
            let prepared = PreparedPassword {
                hash: new_hash,
                notice: self.password_notice(ctx, PasswordChangeReason::Reset).await,
                session: self.fresh_session(now),
            };
            let challenge = self.fresh_challenge(now);
            let decided = self
                .transact(
                    now,
                    |e| {
                        matches!(e, StoreError::TokenNotRedeemable)
                            .then_some(CompleteResetError::TokenInvalid)
                    },
                    first,
                    reload,
                    |(record, account)| {
                        let decided = decide_complete_reset(
                            CompleteResetInput {
                                token: record,
                                account,
                                change: prepared.change(self, account, ctx),
                            },
                            now,
                        )
                        .map(|decision| {
                            let policy = config.mfa_policy(&account.tenant);
                            let ttl = config.challenge_ttl;
                            gate_link_sign_in(decision, account, policy, &challenge.token, ttl, now)
                        });
                        Step::commit_or_refuse(decided)
                    },
                )
                .await?;
            Ok(challenge.outcome(prepared.session, decided))
        }
        .await;
        let label = match &result {
            Ok(_) => "success",
            Err(ServiceError::Refused(e)) => e.code().as_str(),
            Err(ServiceError::Infrastructure(_)) => "error",
        };
        metrics::counter!("portal_password_resets_total", "result" => label).increment(1);
        result
    }

    /// Accepts an invitation: sets the chosen username (unique per tenant)
    /// and password, marks the invitation accepted, and signs the client in
    /// (or, when a second factor is needed, answers a challenge).
    pub async fn accept_invitation(
        &self,
        ctx: &RequestContext,
        token: &str,
        username: &str,
        password: SecretString,
        password_confirmation: SecretString,
    ) -> Result<SignInOutcome, ServiceError<AcceptInvitationError>> {
        let now = self.now();
        let hash = &token_hash(token, AcceptInvitationError::TokenInvalid)?;
        let refused = ServiceError::Refused;
        let load = move || {
            self.load_usable_token(
                hash,
                now,
                check_invitation_token,
                AcceptInvitationError::TokenInvalid,
            )
        };
        let first = load().await?;
        let username = parse_username(username).map_err(refused)?;
        // A fast answer before hashing; the store's unique index decides at commit.
        if let Some(holder) = self
            .store()
            .account_by_username(&first.1.tenant, username.key())
            .await
            .map_err(infra)?
        {
            if holder.id != first.1.id {
                return Err(refused(AcceptInvitationError::UsernameTaken));
            }
        }
        let password_hash = self
            .hash_new_password(
                &password,
                &password_confirmation,
                Some(&username),
                &first.1.email,
            )
            .await
            .map_err(|e| e.map_refusal(AcceptInvitationError::from))?;
        let session = self.fresh_session(now);
        let challenge = self.fresh_challenge(now);
        let config = self.config();
        let decided = self
            .transact(
                now,
                |e| match e {
                    StoreError::TokenNotRedeemable => Some(AcceptInvitationError::TokenInvalid),
                    StoreError::UsernameTaken => Some(AcceptInvitationError::UsernameTaken),
                    StoreError::Conflict | StoreError::EmailTaken | StoreError::Backend(_) => None,
                },
                first,
                move |_| load(),
                |(record, account)| {
                    let decided = decide_accept_invitation(
                        AcceptInvitationInput {
                            token: record,
                            account,
                            username: username.clone(),
                            password_hash: password_hash.clone(),
                            new_session: session.record(account, ctx),
                            ctx,
                            event_id: self.new_event_id(),
                        },
                        now,
                    )
                    .map(|decision| {
                        let policy = config.mfa_policy(&account.tenant);
                        let ttl = config.challenge_ttl;
                        gate_link_sign_in(decision, account, policy, &challenge.token, ttl, now)
                    });
                    Step::commit_or_refuse(decided)
                },
            )
            .await?;
        metrics::counter!("portal_invitations_accepted_total").increment(1);
        Ok(challenge.outcome(session, decided))
    }
}
