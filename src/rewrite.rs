//! Rewriter: byte-exact digest insertion and atomic file writes (to be written).
