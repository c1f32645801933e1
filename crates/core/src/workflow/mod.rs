//! Pure workflows (under construction).
