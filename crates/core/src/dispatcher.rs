//! dispatcher (under construction).
