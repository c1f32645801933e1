//! The signed-in client changes their username, password or the language
//! of their mail.

use secrecy::{ExposeSecret, SecretString};

use super::super::notice::PasswordChangeReason;
use super::super::transaction::{no_constraints, Step};
use super::super::{infra, ClientSession, PortalService, ServiceError, SignedIn};
use super::{same_hash, ChangePasswordError, ChangeUsernameError, PreparedPassword};
use crate::workflow::attribution::Attribution;
use crate::workflow::change_password::check_new_password;
use crate::workflow::change_password::{
    check_current_password, decide_change_password, ChangePasswordInput,
};
use crate::workflow::language::{decide_set_language, LanguageError};
use crate::workflow::rate_keys;
use crate::workflow::username::{decide_change_username, ChangeUsernameOutcome};
use crate::{normalize_password, Account, Actor, RequestContext, StoreError};

impl PortalService {
    /// Changes the signed-in client's username (unique per tenant,
    /// case-insensitively); the client is told by email.
    pub async fn change_username(
        &self,
        session: &ClientSession,
        ctx: &RequestContext,
        username: &str,
    ) -> Result<(), ServiceError<ChangeUsernameError>> {
        let now = self.now();
        self.transact(
            now,
            |e| {
                matches!(e, StoreError::UsernameTaken).then_some(ChangeUsernameError::UsernameTaken)
            },
            session.account.clone(),
            move |account| async move { self.reload(&account).await },
            |account| {
                let decision =
                    decide_change_username(account, username, ctx, self.new_event_id(), now)
                        .map_err(ServiceError::Refused)?;
                Ok(if decision.outcome == ChangeUsernameOutcome::Unchanged {
                    Step::Done(())
                } else {
                    Step::Commit(decision.map(|_| ()))
                })
            },
        )
        .await
    }

    /// Sets the language of the signed-in client's mail (`None` or blank:
    /// the firm's default). Refused: `validation_failed` (a language the
    /// service does not speak).
    pub async fn set_own_language(
        &self,
        session: &ClientSession,
        ctx: &RequestContext,
        language: Option<&str>,
    ) -> Result<(), ServiceError<LanguageError>> {
        let language = self
            .language_of(language)
            .ok_or(ServiceError::Refused(LanguageError::UnsupportedLanguage))?;
        let now = self.now();
        let client = Actor::Client {
            account_id: session.account.id,
        };
        self.transact(
            now,
            no_constraints,
            session.account.clone(),
            move |account| async move { self.reload(&account).await },
            |account| {
                let by = Attribution::new(&client, ctx, self.new_event_id());
                decide_set_language(account, by, now, language.clone())
                    .map(Step::unless_empty)
                    .map_err(ServiceError::Refused)
            },
        )
        .await
    }

    /// Changes the signed-in client's password: verifies the current one,
    /// checks the new one, revokes every session (this one included) and
    /// issues a new one, and queues the password-changed notice.
    pub async fn change_password(
        &self,
        session: &ClientSession,
        ctx: &RequestContext,
        current_password: SecretString,
        password: SecretString,
        password_confirmation: SecretString,
    ) -> Result<SignedIn, ServiceError<ChangePasswordError>> {
        let refused = ServiceError::Refused;
        let config = self.config();
        let now = self.now();
        let account = self.reload(&session.account).await?;
        let checked = check_new_password(
            &config.password_policy,
            &password,
            &password_confirmation,
            account.username.as_ref(),
            &account.email,
        )
        .map_err(|e| refused(e.into()))?;
        // Guesses of the current password count against the sign-in throttle.
        let key = rate_keys::sign_in_account_ip(account.id, ctx.ip);
        let rate = config.sign_in_per_account_ip;
        if self.count(&key, rate, now).await.map_err(infra)? >= rate.limit {
            return Err(refused(ChangePasswordError::RateLimited));
        }
        let verified_against = account.password_hash.clone();
        let verification = self
            .hasher()
            .verify(
                normalize_password(current_password.expose_secret()),
                verified_against.clone(),
            )
            .await?;
        if !verification.matches {
            self.hit(&key, rate, now).await.map_err(infra)?;
        }
        check_current_password(verification.matches).map_err(refused)?;
        let new_hash = self
            .hasher()
            .hash(
                SecretString::from(checked.expose().to_owned()),
                self.random_bytes(),
            )
            .await?;
        drop(checked);
        let prepared = PreparedPassword {
            hash: new_hash,
            notice: self
                .password_notice(ctx, PasswordChangeReason::ChangedByClient)
                .await,
            session: self.fresh_session(now),
        };
        let against = verified_against.as_ref();
        let reload = move |stale: Account| async move {
            let account = self.reload(&stale).await?;
            if same_hash(against, account.password_hash.as_ref()) {
                Ok(account)
            } else {
                // Changed meanwhile: the current password verified is stale.
                Err(refused(ChangePasswordError::InvalidCredentials))
            }
        };
        let account = self
            .transact(now, no_constraints, account, reload, |account| {
                let change = prepared.change(self, account, ctx);
                let input = ChangePasswordInput { account, change };
                Step::commit_or_refuse(decide_change_password(input, now))
            })
            .await?;
        Ok(prepared.session.signed_in(account))
    }
}
