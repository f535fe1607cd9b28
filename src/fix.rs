//! The `--fix`, `--diff`, `--verify` and `--update` flows (to be written).
