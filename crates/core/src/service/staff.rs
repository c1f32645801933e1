//! Staff-side service operations (under construction).
