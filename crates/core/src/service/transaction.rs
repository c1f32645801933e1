//! The one conflict-retry loop every service operation commits through.
//!
//! An operation is: work that does not depend on the loaded state, done
//! once (parsing, GeoIP, hashing, random material); a first load; then
//! [`PortalService::transact`] with a *reload* (what to read again after a
//! version conflict) and a *decide* step (the pure workflow call on the
//! loaded state). `transact` commits the decision; on
//! [`StoreError::Conflict`] it reloads and decides again, at most
//! `config.conflict_retries` times, then gives up with
//! [`InfraError::PersistentConflict`].
//!
//! # The `now` policy
//!
//! An operation reads `now` once per call ([`PortalService::now`]), before
//! its first load, and uses that one instant for its cheap checks, for
//! every attempt's decision and for rendering its mail. A retried attempt
//! therefore decides at the same instant as the first: what was checked
//! before the loop (a token usable, a throttle window) and what is decided
//! in it agree. `transact` itself never reads the clock.

use std::future::Future;

use time::OffsetDateTime;

use super::{infra, InfraError, PortalService, ServiceError};
use crate::workflow::{Decision, Refusal};
use crate::StoreError;

/// What one attempt's decide step wants.
#[allow(
    clippy::large_enum_variant,
    reason = "made and matched once per attempt, never stored"
)]
pub(crate) enum Step<T> {
    /// Commit this decision; its outcome is the answer.
    Commit(Decision<T>),
    /// Nothing to commit: answer this at once.
    Done(T),
}

impl<T> Step<T> {
    /// Commits a workflow's decision, or answers its refusal.
    pub(crate) fn commit_or_refuse<E: Refusal>(
        decided: Result<Decision<T>, E>,
    ) -> Result<Self, ServiceError<E>> {
        decided.map(Self::Commit).map_err(ServiceError::Refused)
    }

    /// Commits the decision unless it changes nothing and sends nothing.
    pub(crate) fn unless_empty(decision: Decision<T>) -> Self {
        if decision.changes.is_empty() && decision.mail.is_empty() {
            Self::Done(decision.outcome)
        } else {
            Self::Commit(decision)
        }
    }
}

/// Which store errors of a commit are refusals the user can act on (a
/// unique index or a single-use token said no); every other store error is
/// an infrastructure failure.
pub(crate) type Constraints<E> = fn(&StoreError) -> Option<E>;

/// No store error of this operation is a refusal.
pub(crate) fn no_constraints<E>(_: &StoreError) -> Option<E> {
    None
}

impl PortalService {
    /// Decides on `state` and commits; on a version conflict reloads
    /// (`reload` gets the stale state, for what it wants to keep) and
    /// decides again, up to `config.conflict_retries` times. `now` is the
    /// call's one instant (see the [module documentation](self)); the
    /// decision's mail is rendered at it. Commit errors other than a
    /// conflict go through `constraints`.
    pub(crate) async fn transact<S, T, E, L, F, D>(
        &self,
        now: OffsetDateTime,
        constraints: Constraints<E>,
        mut state: S,
        reload: L,
        mut decide: D,
    ) -> Result<T, ServiceError<E>>
    where
        E: Refusal,
        L: Fn(S) -> F,
        F: Future<Output = Result<S, ServiceError<E>>>,
        D: FnMut(&S) -> Result<Step<T>, ServiceError<E>>,
    {
        let mut conflicts = 0;
        loop {
            let decision = match decide(&state)? {
                Step::Done(outcome) => return Ok(outcome),
                Step::Commit(decision) => decision,
            };
            match self.commit(decision, now).await? {
                Ok(outcome) => return Ok(outcome),
                Err(StoreError::Conflict) => {
                    if conflicts >= self.config().conflict_retries {
                        return Err(InfraError::PersistentConflict.into());
                    }
                    conflicts += 1;
                    state = reload(state).await?;
                }
                Err(other) => {
                    return Err(match constraints(&other) {
                        Some(refused) => ServiceError::Refused(refused),
                        None => infra(other),
                    })
                }
            }
        }
    }
}
