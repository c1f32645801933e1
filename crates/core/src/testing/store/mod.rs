//! The [`AccountStore`] conformance suite: one set of tests, run against
//! every store (memory, SQLite, PostgreSQL).
//!
//! Each test is a public async function taking a fresh, empty store; the
//! [`account_store_conformance!`](crate::account_store_conformance) macro
//! generates one `#[test]` per function, each on its own multi-threaded
//! runtime and with its own store from the factory you give it:
//!
//! ```
//! use std::sync::Arc;
//! use portal_access_core::testing::MemoryStore;
//! use portal_access_core::testing::store::Fixture;
//!
//! async fn fresh_store() -> Fixture {
//!     Fixture::new(Arc::new(MemoryStore::new()))
//! }
//!
//! portal_access_core::account_store_conformance!(fresh_store);
//! # fn main() {}
//! ```
//!
//! A factory for a database-backed store creates a database per test and
//! hands back a guard with [`Fixture::with_guard`] that drops it.
//!
//! Timestamps: stores keep microseconds. The suite writes
//! microsecond-aligned times and compares exactly, except in
//! [`timestamps_round_trip_to_the_microsecond`], which accepts the exact
//! value or its truncation to the microsecond and nothing else.
//!
//! The tests live by concern in the submodules (accounts, commits, tokens,
//! sessions, rates and staff verification, staff timelines, outbox, the
//! audit chain, server secrets), on the
//! shared fixtures of `fixtures`; all are re-exported here, and a new test
//! is added to its concern's file and to the list in
//! [`account_store_conformance!`](crate::account_store_conformance).

// Test support: a failed step is a failed test, so it panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod audit;
mod commits;
mod devices;
mod factors;
mod fixtures;
mod outbox;
mod rates;
mod secrets;
mod sessions;
mod timelines;
mod tokens;
mod webhooks;

pub use accounts::*;
pub use audit::*;
pub use commits::*;
pub use devices::*;
pub use factors::*;
pub use outbox::*;
pub use rates::*;
pub use secrets::*;
pub use sessions::*;
pub use timelines::*;
pub use tokens::*;
pub use webhooks::*;

use std::any::Any;
use std::future::Future;
use std::sync::Arc;

use crate::AccountStore;

/// A fresh, empty store for one test, and whatever must live as long as it
/// (e.g. a guard that drops the test's database, or a temporary directory).
pub struct Fixture {
    /// The store under test.
    pub store: Arc<dyn AccountStore>,
    // Declared after `store`: dropped after it, so the store (and its pool)
    // goes before the guard that removes its data.
    _guard: Option<Box<dyn Any + Send>>,
}

impl Fixture {
    /// A store that needs no clean-up.
    pub fn new(store: Arc<dyn AccountStore>) -> Self {
        Self {
            store,
            _guard: None,
        }
    }

    /// A store with a guard, dropped after the test (even when it fails).
    pub fn with_guard(store: Arc<dyn AccountStore>, guard: impl Any + Send) -> Self {
        Self {
            store,
            _guard: Some(Box::new(guard)),
        }
    }
}

/// Runs one suite test on a fresh multi-threaded runtime with a store from
/// `factory`. Used by the generated tests.
pub fn run<F, FF, T, TF>(factory: F, test: T)
where
    F: FnOnce() -> FF,
    FF: Future<Output = Fixture>,
    T: FnOnce(Arc<dyn AccountStore>) -> TF,
    TF: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a test runtime");
    runtime.block_on(async move {
        let fixture = factory().await;
        test(Arc::clone(&fixture.store)).await;
        drop(fixture);
    });
}

/// Generates the whole [`AccountStore`] conformance suite as `#[test]`
/// functions in the calling module. The argument is a factory: a function
/// (or closure) taking no arguments and returning a future of a
/// [`Fixture`] with a fresh, empty store. See the
/// [module documentation](crate::testing::store).
#[macro_export]
macro_rules! account_store_conformance {
    ($factory:expr) => {
        $crate::__account_store_tests!($factory;
            an_inserted_account_is_found_by_id_normalized_email_and_username_key,
            a_search_matches_email_username_or_contact_ref_newest_first_within_the_tenant,
            one_email_address_holds_one_account_in_each_tenant_and_reads_never_cross_tenants,
            writes_naming_another_tenant_change_nothing,
            a_second_account_with_the_same_normalized_email_is_refused_as_email_taken,
            a_username_differing_only_in_case_is_refused_as_username_taken,
            fifty_concurrent_claims_of_one_username_succeed_exactly_once,
            twenty_concurrent_inserts_of_one_email_create_exactly_one_account,
            a_hundred_concurrent_redemptions_of_one_token_succeed_exactly_once,
            expired_revoked_used_wrong_kind_and_unknown_tokens_never_redeem,
            an_update_at_a_stale_version_is_refused_and_changes_nothing,
            an_update_writes_every_field_and_increments_the_version,
            a_failed_commit_leaves_no_trace,
            revoking_tokens_then_issuing_a_new_one_keeps_the_new_link,
            revoking_all_sessions_of_an_account_but_one_is_immediate,
            signing_out_revokes_only_that_session,
            touching_a_session_sets_only_its_last_seen_time,
            a_session_is_read_with_its_account_in_one_call,
            two_hundred_concurrent_rate_hits_count_exactly,
            clearing_rate_prefixes_deletes_only_keys_with_that_prefix,
            staff_verification_is_upserted_per_tenant,
            audit_events_are_listed_newest_first_per_tenant_and_account,
            messages_tokens_and_link_openings_are_listed_newest_first_per_account,
            a_leased_message_is_not_leased_again_until_its_lease_expires,
            messages_are_leased_only_when_due_and_oldest_due_first,
            concurrent_leases_never_hand_out_one_message_twice,
            recording_a_sent_message_redacts_only_a_body_that_carries_a_token,
            recording_a_retry_reschedules_the_message_with_its_error,
            recording_a_failure_gives_up_on_the_message,
            recording_a_superseded_message_redacts_its_link_and_never_leases_it_again,
            bodies_whose_token_expired_are_redacted_once,
            expired_rate_counters_are_purged,
            a_store_answers_ping,
            a_server_secret_is_stored_once_and_later_callers_read_the_first,
            twenty_concurrent_first_calls_for_one_secret_agree,
            a_console_sign_in_is_found_until_signed_out_or_expired,
            timestamps_round_trip_to_the_microsecond,
            eight_concurrent_writers_of_two_hundred_events_form_one_chain, events_of_a_commit_are_chained_in_order_per_tenant_and_a_refused_commit_takes_none, the_trail_is_read_in_pages_filtered_by_time_account_and_kind_per_tenant, pruning_removes_only_a_whole_prefix_and_the_rest_still_verifies, second_factors_round_trip_with_the_account, a_hundred_concurrent_uses_of_one_recovery_code_succeed_exactly_once, one_totp_step_raced_twice_is_accepted_once, a_sign_in_challenge_is_a_single_use_token_of_its_own_kind,
            remembered_devices_are_listed_per_account_and_revoked_one_or_all,
            an_accounts_live_sessions_are_listed_newest_first,
            webhooks_are_queued_with_the_commit_and_leased_once_until_the_lease_expires,
            recorded_webhook_outcomes_stick_and_are_listed_per_account_newest_first,
            concurrent_webhook_leases_never_hand_out_one_delivery_twice,
            a_message_failure_is_recorded_with_its_webhooks_or_not_at_all,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __account_store_tests {
    ($factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::testing::store::run($factory, $crate::testing::store::$name);
            }
        )*
    };
}
