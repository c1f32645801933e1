//! memory (under construction).
