//! Journeys of later issues, one module each (see tests/browser_journey.rs
//! for the World they share).

pub mod console;
