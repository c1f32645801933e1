//! The AccountStore conformance suite (under construction).
