//! Reports: human, JSON, SARIF and GitHub renderings of findings (to be written).
