//! HTTP tests of every endpoint and every error code of SPEC.md section 4,
//! each against a freshly spawned app on port 0 with its own database, run
//! on SQLite and on PostgreSQL (`DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; a database is created per
//! test and dropped).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account_language;
mod audit;
mod client;
mod common;
mod console;
mod factor_pages;
mod faults;
mod languages;
mod mfa;
mod openapi;
mod pages;
mod recovery;
mod security;
mod staff;
mod webhooks;

/// Instantiates each case once per store.
macro_rules! on_every_store {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::$module::$case(crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::$module::$case(crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

on_every_store!(
    account_language::staff_create_a_spanish_account_and_change_its_language,
    account_language::an_unsupported_language_is_refused_and_nothing_is_created_or_changed,
    account_language::another_tenants_staff_cannot_change_the_language,
    account_language::the_client_sets_their_own_language_and_their_mail_follows,
    account_language::the_home_page_form_sets_the_language,
    account_language::the_console_sets_the_language_on_creation_and_on_the_account_page,
    account_language::raced_language_changes_leave_the_audit_trail_agreeing_with_the_account,
    audit::the_audit_trail_is_paged_by_cursor_with_each_events_seq_and_hash,
    audit::the_audit_trail_streams_as_jsonl_and_csv_filtered_by_account_and_kind,
    audit::bad_audit_queries_are_validation_failed_with_a_message,
    audit::a_tenants_staff_never_sees_another_tenants_audit_events,
    staff::staff_creates_an_account_and_reads_its_status,
    webhooks::staff_status_lists_webhook_deliveries_beside_messages,
    staff::creating_an_account_with_a_malformed_email_is_validation_failed,
    staff::creating_an_account_with_a_used_email_is_email_taken,
    staff::staff_calls_without_valid_credentials_are_unauthenticated,
    staff::another_tenants_account_is_not_found,
    staff::unknown_and_malformed_account_ids_are_not_found,
    staff::an_invitation_is_sent_then_resent_and_the_old_link_stops_working,
    staff::password_reset_refusals_follow_the_account_state,
    staff::staff_sets_a_password_that_the_client_must_change,
    staff::access_archive_and_unarchive_change_what_the_client_can_do,
    staff::staff_changes_the_email_address,
    staff::account_events_list_the_audit_trail_newest_first,
    staff::past_the_reset_rate_human_verification_is_required_then_passed,
    staff::human_verification_without_a_captcha_provider_is_validation_failed,
    staff::without_a_mailer_links_are_refused_and_notices_skipped,
    client::accepting_an_invitation_signs_the_client_in_with_a_strict_cookie,
    client::a_used_or_unknown_token_is_token_invalid,
    client::accepting_refuses_bad_usernames_and_passwords_and_keeps_the_token,
    client::sign_in_by_username_or_email_issues_a_new_session_each_time,
    client::wrong_passwords_are_invalid_credentials_then_rate_limited,
    client::signing_out_ends_the_session_and_clears_the_cookie,
    client::me_without_a_valid_session_is_unauthenticated,
    client::forgot_password_answers_the_same_whether_or_not_the_address_exists,
    client::forgot_password_with_a_required_captcha_refuses_a_failed_one,
    client::the_client_changes_their_username,
    client::changing_the_password_rotates_the_session,
    pages::every_page_sends_the_security_headers,
    pages::opening_a_link_page_with_get_or_head_leaves_the_token_usable,
    pages::the_invitation_form_sets_up_the_account_and_signs_in,
    pages::the_sign_in_form_shows_a_refusal_and_signs_in,
    pages::a_staff_set_password_takes_the_client_to_the_password_page_until_changed,
    pages::the_username_page_changes_the_username,
    pages::the_forgot_password_and_reset_pages_set_a_new_password,
    pages::an_expired_invitation_page_offers_a_fresh_invitation,
    pages::this_wasnt_me_secures_the_account,
    pages::a_refused_link_form_records_no_second_opening,
    factor_pages::an_authenticator_set_up_on_the_security_page_guards_the_next_sign_in,
    factor_pages::under_required_a_client_sets_up_a_factor_before_any_session,
    factor_pages::a_reset_with_an_authenticator_enrolled_leads_to_the_code_step,
    factor_pages::codes_by_email_are_added_used_and_removed_with_the_password,
    factor_pages::new_recovery_codes_need_the_password_and_replace_the_old_ones,
    security::forms_without_or_with_a_wrong_csrf_token_are_refused,
    security::cross_site_forms_are_refused_even_with_a_valid_token,
    security::a_signed_in_forms_token_is_bound_to_its_session,
    security::the_client_api_refuses_cross_site_calls,
    security::malformed_mistyped_and_oversized_bodies_are_validation_failed,
    security::internal_failures_answer_500_with_a_request_id_and_no_internal_text,
    security::an_https_portal_sends_hsts_on_every_answer,
    security::a_plain_http_portal_never_sends_hsts,
    mfa::a_client_enrols_an_authenticator_and_then_needs_its_code_to_sign_in,
    mfa::wrong_length_alphabet_and_old_step_codes_are_second_factor_invalid,
    mfa::a_step_or_recovery_code_once_used_is_refused_the_second_time,
    mfa::a_challenge_after_five_minutes_or_of_another_account_never_works,
    mfa::under_required_a_client_enrols_before_any_session_and_keeps_the_last_factor,
    mfa::a_password_alone_cannot_add_a_factor_to_an_account_that_has_one,
    mfa::a_reset_with_an_authenticator_enrolled_asks_for_the_code,
    mfa::an_emailed_code_signs_in_once,
    recovery::a_staff_mfa_reset_removes_the_factor_ends_sessions_and_notifies_the_client,
    recovery::after_an_mfa_reset_under_required_the_next_sign_in_asks_to_enrol,
    recovery::an_mfa_reset_is_refused_for_an_archived_account_and_past_the_staff_rate,
    recovery::a_remembered_device_skips_the_code_on_that_browser_for_that_account_only,
    recovery::a_password_change_and_a_staff_mfa_reset_forget_every_device,
    recovery::the_client_lists_and_ends_sessions_but_never_another_accounts,
    recovery::the_client_forgets_one_device_or_all_but_never_another_accounts,
    recovery::staff_read_and_end_an_accounts_sessions_within_their_tenant,
    recovery::the_security_page_lists_sessions_and_ends_another_one,
    console::staff_sign_in_to_the_console_with_their_token_once_and_sign_out,
    console::the_staff_apis_own_authentication_opens_the_console_too,
    console::a_clients_session_cookie_does_not_open_the_console,
    console::console_forms_without_a_valid_csrf_token_or_from_another_site_change_nothing,
    console::staff_find_accounts_by_email_username_or_contact_ref_a_page_at_a_time,
    console::creating_an_account_with_its_invitation_shows_the_mail_sent_in_the_timeline,
    console::a_reset_while_the_invitation_is_pending_says_to_resend_it,
    console::the_account_page_shows_the_username_and_turns_access_off_and_on,
    console::staff_set_a_password_by_hand_that_the_client_must_change,
    console::archive_unarchive_and_change_email_from_the_account_page,
    console::a_change_made_after_another_staff_members_changes_nothing,
    console::staff_of_another_tenant_see_no_account_of_this_one,
    console::unknown_and_malformed_account_ids_and_actions_are_not_found,
    console::human_verification_returns_to_the_account_that_asked_for_it,
    console::without_a_mailer_the_console_says_to_configure_one_or_set_a_password,
    console::the_console_speaks_spanish_from_accept_language_or_the_switch,
    console::staff_reset_a_lost_second_factor_from_the_account_page_once,
    languages::accept_language_es_gives_the_spanish_sign_in_page,
    languages::the_language_switch_is_remembered_on_later_pages,
    languages::refusals_read_in_spanish_and_english_stays_english,
    languages::the_security_page_writes_times_in_spanish_in_the_firms_time_zone,
);

/// Connections terminated under the app (PostgreSQL), a busy database (SQLite).
mod faults_on_every_store {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_connections_dropped_mid_commit_leave_every_account_consistent() {
        crate::faults::dropped_connections_leave_every_account_consistent_and_every_answer_honest(
            crate::common::Backend::Postgres,
        )
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_busy_sqlite_database_leaves_every_account_consistent() {
        crate::faults::dropped_connections_leave_every_account_consistent_and_every_answer_honest(
            crate::common::Backend::Sqlite,
        )
        .await
    }
}
