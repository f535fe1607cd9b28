//! Scanner for gitlab_ci files (to be written).

use super::{Occurrence, ScanError};

/// Finds the image references in one file's text (BOM already stripped).
pub fn scan(text: &str) -> Result<Vec<Occurrence>, ScanError> {
    let _ = text;
    Ok(Vec::new())
}
