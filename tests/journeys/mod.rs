//! The journeys of later issues, one module each (one long journey per
//! issue), on the [`World`](super::World) of `browser_journey.rs`.

pub mod console;
pub mod recovery;
pub mod spanish;
