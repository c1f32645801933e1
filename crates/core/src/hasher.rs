//! hasher (under construction).
