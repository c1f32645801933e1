//! service (under construction).
