//! A small YAML document tree with byte spans, built from granit-parser's
//! events, shared by the YAML scanners (to be written).
