//! Client-side service operations (under construction).
