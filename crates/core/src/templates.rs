//! templates (under construction).
