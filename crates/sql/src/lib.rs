//! # portal-access-sql (internal)
//!
//! The one SQL body of portal-access's [`AccountStore`](portal_access_core::AccountStore):
//! query text, column lists, row decoding and the commit (in the order of
//! [`Changes::steps`](portal_access_core::Changes::steps)) are written here
//! once, generic over a [`Dialect`]. The public adapters
//! `portal-access-sqlite` and `portal-access-postgres` each implement
//! [`Dialect`] (what truly differs: how times and JSON are stored, the lease
//! clause, how a transaction begins, constraint violations -> `StoreError`,
//! connecting and migrating) and name the store `SqlStore<TheirDialect>`.
//!
//! Placeholders are `$N` in both databases (sqlx-sqlite binds `$N` as the
//! N-th argument), so the query text is literally shared. Query strings are
//! `const`s or built once per dialect ([`Queries`]); no statement is formatted
//! per request.
//!
//! Where to add a table (e.g. wave 2's MFA factors): its columns and
//! statements in [`queries`], its row decoding in `rows`, its commit step in
//! `commit` (the compiler lists every place once a new
//! [`ChangeStep`](portal_access_core::ChangeStep) exists), its reads in
//! `store`; plus one migration per backend crate.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod arg;
mod backend;
mod commit;
mod corrupt;
mod dialect;
pub mod queries;
mod rows;
mod store;
mod stored;
mod webhooks;

pub use arg::{Arg, Statement};
pub use backend::{Backend, On};
pub use corrupt::{corrupt, CorruptRow};
pub use dialect::{ConnectOptionsOf, Dialect, SqlQuery, SqlRow, Target};
pub use queries::Queries;
pub use store::SqlStore;
pub use stored::{StoredJson, StoredTime};
