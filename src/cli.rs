//! Command-line arguments (to be written).
