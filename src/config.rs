//! `.imagepin.toml`: discovery (current directory upward, or `--config`),
//! parsing with errors that name the key and the file, and typed accessors.
//!
//! ```toml
//! exclude = ["vendor/**"]                  # never scanned, even when named
//! ignore-images = ["localhost:5000/*"]     # findings become `ignored`
//! cache-ttl = "1h"                         # tag → digest cache lifetime
//! credential-helper-timeout = "10s"
//! max-age = "90d"                          # pinned images older fail: `too-old`
//! max-age-unknown = "fail"                 # unknown dates fail (default "warn")
//! require-platforms = ["linux/amd64", "linux/arm64"]  # else `platforms-missing`
//! [[files]]                                # declare kinds by glob
//! glob = "deploy/**/*.yaml"
//! kind = "kubernetes"
//! [[allow]]                                # a declared exception: `allowed`
//! paths = ["compose.override.yaml"]        # globs, relative to this file
//! images = ["myapp*"]                      # optional, like ignore-images
//! reason = "local development floats"     # required
//! expires = "2026-10-01"                   # optional; fails again after it
//! [registries."docker.io"]
//! endpoint = "http://127.0.0.1:5000"       # mirror / pull-through cache
//! insecure = true                          # allow plain HTTP / bad TLS
//! ca-file = "ca.pem"                       # extra trusted CA (relative to this file)
//! concurrency = 16                         # parallel requests to this host
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::{Glob, GlobMatcher, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use thiserror::Error;

use crate::finding::FileKind;

pub(crate) const FILE_NAME: &str = ".imagepin.toml";
/// The largest configuration file read (a hand-written file is a few KiB).
pub(crate) const MAX_CONFIG_SIZE: u64 = 1024 * 1024;
pub(crate) const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(3600);
pub(crate) const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const DEFAULT_CONCURRENCY: usize = 16;
/// The most parallel requests to one registry `concurrency` may ask for.
pub(crate) const MAX_CONCURRENCY: usize = 256;

#[derive(Debug, Error)]
pub enum ConfigError {
    /// Missing, unreadable, not a regular file, too large or not UTF-8.
    #[error("{path}: cannot read configuration: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    /// A syntax or type error at a place in the file (1-based line and
    /// column, in characters).
    #[error("{path}:{line}:{column}: {message}")]
    At {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    ignore_images: Vec<String>,
    cache_ttl: Option<String>,
    credential_helper_timeout: Option<String>,
    #[serde(default)]
    files: Vec<RawFileRule>,
    #[serde(default)]
    registries: BTreeMap<String, RawRegistry>,
    #[serde(default)]
    allow: Vec<RawAllow>,
    max_age: Option<String>,
    max_age_unknown: Option<String>,
    require_platforms: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAllow {
    paths: Vec<String>,
    #[serde(default)]
    images: Vec<String>,
    reason: String,
    expires: Option<Date>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFileRule {
    glob: String,
    kind: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRegistry {
    endpoint: Option<String>,
    #[serde(default)]
    insecure: bool,
    ca_file: Option<PathBuf>,
    concurrency: Option<usize>,
}

/// Per-registry settings, keyed by the host as written in references
/// (`docker.io` also covers `index.docker.io` and references with no domain).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryConfig {
    /// Base URL to send requests to instead of the host (`http://127.0.0.1:5000`).
    pub endpoint: Option<String>,
    pub insecure: bool,
    /// Absolute path of an extra trusted CA certificate (PEM).
    pub ca_file: Option<PathBuf>,
    pub concurrency: Option<usize>,
}

/// The loaded configuration. `Config::default()` is what applies with no file.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this came from, if any.
    pub source: Option<PathBuf>,
    /// Directory that globs are relative to (the config file's, or the cwd).
    pub root: PathBuf,
    exclude: GlobSet,
    ignore_images: GlobSet,
    files: Vec<(GlobMatcher, FileKind)>,
    pub cache_ttl: Duration,
    pub credential_helper_timeout: Duration,
    pub registries: BTreeMap<String, RegistryConfig>,
    /// The `[[allow]]` exceptions, in file order.
    allow: Vec<AllowRule>,
    /// `max-age`: pinned images created longer ago fail (`too-old`).
    pub max_age: Option<Duration>,
    /// `max-age-unknown = "fail"`: an unknown creation date fails
    /// (`age-unknown`) instead of warning.
    pub max_age_unknown_fails: bool,
    /// `require-platforms`: every pinned digest must be an index with these.
    pub require_platforms: Vec<crate::policy::PlatformSpec>,
}

/// One `[[allow]]` exception: references at `paths` (and, when given,
/// matching `images`) that may stay unpinned, for a `reason`, maybe until
/// a date.
#[derive(Debug, Clone)]
pub struct AllowRule {
    /// 1-based position among the `[[allow]]` tables (`[[allow]] #2`).
    pub number: usize,
    paths: GlobSet,
    /// Empty: every image at those paths.
    images: GlobSet,
    pub reason: String,
    /// The last day the exception holds.
    pub expires: Option<Date>,
}

impl AllowRule {
    /// Whether the exception still holds on `today` (it holds through its
    /// `expires` day).
    pub fn active(&self, today: Date) -> bool {
        self.expires.is_none_or(|e| today <= e)
    }
}

/// A calendar date (`YYYY-MM-DD`), compared in calendar order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// `YYYY-MM-DD`, a real day of the Gregorian calendar.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u16> {
            let part = s.get(r)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let year = digits(0..4)?;
        let month = u8::try_from(digits(5..7)?).ok()?;
        let day = u8::try_from(digits(8..10)?).ok()?;
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days)
            .contains(&day)
            .then_some(Date { year, month, day })
    }

    /// Seconds since the Unix epoch at the start of this day (UTC).
    pub fn to_unix(self) -> i64 {
        days_from_civil(
            i64::from(self.year),
            u32::from(self.month),
            u32::from(self.day),
        ) * 86_400
    }

    /// The UTC date `secs` seconds after the Unix epoch.
    pub fn from_unix(secs: u64) -> Date {
        let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
        let (year, month, day) = civil_from_days(days);
        Date {
            year: u16::try_from(year).unwrap_or(u16::MAX),
            month: month as u8,
            day: day as u8,
        }
    }
}

/// Howard Hinnant's `civil_from_days`: the Gregorian date of a day number
/// (days since 1970-01-01).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Days since 1970-01-01 of a Gregorian date (Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// What `expires` accepts: a string `"2026-10-01"` or a TOML date
/// `2026-10-01` (no time, no offset).
impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        struct V;
        const EXPECTED: &str = "a date YYYY-MM-DD";
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Date;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Date, E> {
                Date::parse(s)
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(s), &EXPECTED))
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<Date, M::Error> {
                use serde::de::Error;
                let dt = toml::value::Datetime::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                match (dt.date, dt.time, dt.offset) {
                    (Some(_), None, None) => {
                        let text = dt.to_string();
                        Date::parse(&text).ok_or_else(|| {
                            M::Error::invalid_value(serde::de::Unexpected::Str(&text), &EXPECTED)
                        })
                    }
                    _ => Err(M::Error::invalid_value(
                        serde::de::Unexpected::Str(&dt.to_string()),
                        &EXPECTED,
                    )),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            source: None,
            root: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            exclude: GlobSet::empty(),
            ignore_images: GlobSet::empty(),
            files: Vec::new(),
            cache_ttl: DEFAULT_CACHE_TTL,
            credential_helper_timeout: DEFAULT_HELPER_TIMEOUT,
            registries: BTreeMap::new(),
            allow: Vec::new(),
            max_age: None,
            max_age_unknown_fails: false,
            require_platforms: Vec::new(),
        }
    }
}

impl Config {
    /// `--config PATH` when given, else the first `.imagepin.toml` from `start`
    /// upward, else defaults.
    pub fn discover(explicit: Option<&Path>, start: &Path) -> Result<Config, ConfigError> {
        if let Some(p) = explicit {
            return Config::load(p);
        }
        for dir in start.ancestors() {
            let candidate = dir.join(FILE_NAME);
            // Anything by that name counts (a FIFO or a link to a device too:
            // it is refused with its name rather than silently passed over).
            if candidate.symlink_metadata().is_ok() {
                return Config::load(&candidate);
            }
        }
        Ok(Config {
            root: start.to_path_buf(),
            ..Config::default()
        })
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = crate::fsio::read_regular_text(path, MAX_CONFIG_SIZE).map_err(|message| {
            ConfigError::Read {
                path: path.to_path_buf(),
                message: message
                    .strip_prefix("cannot read: ")
                    .unwrap_or(&message)
                    .to_string(),
            }
        })?;
        let root = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let root = std::path::absolute(&root).unwrap_or(root);
        Config::parse(&text, path, &root)
    }

    /// Parses configuration text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path, root: &Path) -> Result<Config, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let message = toml_message(&e);
            match e.span() {
                Some(span) => {
                    let (line, column) = line_column(text, span.start);
                    ConfigError::At {
                        path: path.to_path_buf(),
                        line,
                        column,
                        message,
                    }
                }
                None => invalid(message),
            }
        })?;
        let globs = |key: &str, patterns: &[String]| -> Result<GlobSet, ConfigError> {
            let mut b = GlobSetBuilder::new();
            for p in patterns {
                b.add(glob(p).map_err(|e| invalid(format!("`{key}`: invalid glob {p:?}: {e}")))?);
            }
            b.build().map_err(|e| invalid(format!("`{key}`: {e}")))
        };
        let mut files = Vec::new();
        for (i, rule) in raw.files.iter().enumerate() {
            let kind = crate::scan::kind_from_id(&rule.kind).ok_or_else(|| {
                let names: Vec<_> = crate::scan::KINDS.iter().map(|k| k.id.as_str()).collect();
                invalid(format!(
                    "`files[{i}].kind`: unknown kind {:?} (expected one of {})",
                    rule.kind,
                    names.join(", ")
                ))
            })?;
            let m = glob(&rule.glob)
                .map_err(|e| {
                    invalid(format!(
                        "`files[{i}].glob`: invalid glob {:?}: {e}",
                        rule.glob
                    ))
                })?
                .compile_matcher();
            files.push((m, kind));
        }
        let mut registries = BTreeMap::new();
        for (host, r) in raw.registries {
            if let Some(ep) = &r.endpoint {
                if !(ep.starts_with("http://") || ep.starts_with("https://")) {
                    return Err(invalid(format!(
                        "`registries.\"{host}\".endpoint`: {ep:?} must start with http:// or https://"
                    )));
                }
            }
            if let Some(n) = r.concurrency.filter(|n| !(1..=MAX_CONCURRENCY).contains(n)) {
                return Err(invalid(format!(
                    "`registries.\"{host}\".concurrency`: {n} is out of range (1 to {MAX_CONCURRENCY})"
                )));
            }
            let host = normalize_host(&host);
            registries.insert(
                host,
                RegistryConfig {
                    endpoint: r.endpoint.map(|e| e.trim_end_matches('/').to_string()),
                    insecure: r.insecure,
                    ca_file: r.ca_file.map(|p| root.join(p)),
                    concurrency: r.concurrency,
                },
            );
        }
        let mut allow = Vec::new();
        for (i, rule) in raw.allow.iter().enumerate() {
            let number = i + 1;
            if rule.reason.trim().is_empty() {
                return Err(invalid(format!(
                    "`allow[{i}].reason`: an exception needs a reason (the text says why these references may stay unpinned)"
                )));
            }
            if rule.paths.is_empty() {
                return Err(invalid(format!(
                    "`allow[{i}].paths`: list at least one glob (\"**\" for everywhere)"
                )));
            }
            allow.push(AllowRule {
                number,
                paths: globs(&format!("allow[{i}].paths"), &rule.paths)?,
                images: globs(&format!("allow[{i}].images"), &rule.images)?,
                reason: rule.reason.clone(),
                expires: rule.expires,
            });
        }
        let duration = |key: &str, v: &Option<String>, default| match v {
            None => Ok(default),
            Some(s) => parse_duration(s).ok_or_else(|| {
                invalid(format!(
                    "`{key}`: invalid duration {s:?} (use a number with s, m, h or d, e.g. \"1h\")"
                ))
            }),
        };
        Ok(Config {
            source: Some(path.to_path_buf()),
            root: root.to_path_buf(),
            exclude: globs("exclude", &raw.exclude)?,
            ignore_images: globs("ignore-images", &raw.ignore_images)?,
            files,
            cache_ttl: duration("cache-ttl", &raw.cache_ttl, DEFAULT_CACHE_TTL)?,
            credential_helper_timeout: duration(
                "credential-helper-timeout",
                &raw.credential_helper_timeout,
                DEFAULT_HELPER_TIMEOUT,
            )?,
            registries,
            allow,
            max_age: match &raw.max_age {
                None => None,
                Some(s) => Some(duration("max-age", &Some(s.clone()), Duration::ZERO)?),
            },
            max_age_unknown_fails: match raw.max_age_unknown.as_deref() {
                None | Some("warn") => false,
                Some("fail") => true,
                Some(other) => {
                    return Err(invalid(format!(
                        "`max-age-unknown`: {other:?} is not \"warn\" or \"fail\""
                    )));
                }
            },
            require_platforms: raw
                .require_platforms
                .iter()
                .flatten()
                .map(|p| {
                    crate::policy::PlatformSpec::parse(p)
                        .map_err(|e| invalid(format!("`require-platforms`: {e}")))
                })
                .collect::<Result<_, _>>()?,
        })
    }

    /// Path relative to the config root, for glob matching.
    fn relative<'p>(&self, path: &'p Path) -> std::borrow::Cow<'p, Path> {
        if path.is_absolute() {
            match path.strip_prefix(&self.root) {
                Ok(p) => p.into(),
                Err(_) => path.into(),
            }
        } else {
            let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            match abs.strip_prefix(&self.root) {
                Ok(p) => p.to_path_buf().into(),
                Err(_) => path.into(),
            }
        }
    }

    /// Whether `exclude` matches this path (relative to the cwd or absolute).
    pub fn is_excluded(&self, path: &Path) -> bool {
        !self.exclude.is_empty() && self.exclude.is_match(self.relative(path))
    }

    /// The kind declared for this path by a `[[files]]` rule, if any.
    pub fn declared_kind(&self, path: &Path) -> Option<FileKind> {
        if self.files.is_empty() {
            return None;
        }
        let rel = self.relative(path);
        self.files
            .iter()
            .find(|(m, _)| m.is_match(&*rel))
            .map(|(_, k)| *k)
    }

    /// Whether an `ignore-images` pattern matches this reference text
    /// (as written, or normalized, with or without tag and digest).
    pub fn is_ignored_image(&self, reference: &str) -> bool {
        !self.ignore_images.is_empty() && image_matches(&self.ignore_images, reference)
    }

    /// The `[[allow]]` rules whose `paths` (and `images`, when given) match
    /// this reference at this path, in file order. `references` are the
    /// texts to match: as written, and as used for one written in parts.
    pub fn allow_rules(&self, path: &Path, references: &[&str]) -> Vec<&AllowRule> {
        if self.allow.is_empty() {
            return Vec::new();
        }
        let rel = self.relative(path);
        self.allow
            .iter()
            .filter(|a| a.paths.is_match(&*rel))
            .filter(|a| {
                a.images.is_empty() || references.iter().any(|r| image_matches(&a.images, r))
            })
            .collect()
    }

    /// Settings for a registry host (`docker.io` for Docker Hub references).
    pub fn registry(&self, host: &str) -> Option<&RegistryConfig> {
        self.registries.get(&normalize_host(host))
    }
}

/// Image patterns given on the command line (`--only python,ghcr.io/org/*`),
/// matched against a reference's repository, with or without its tag, as
/// written or normalized (`python`, `library/python`,
/// `docker.io/library/python`, each also with `:TAG`). The digest is never
/// part of what is matched.
#[derive(Debug, Clone)]
pub struct ImagePatterns {
    set: GlobSet,
}

impl ImagePatterns {
    /// Compiles the patterns; an invalid glob is an error naming it.
    pub fn new(patterns: &[String]) -> Result<ImagePatterns, String> {
        let mut b = GlobSetBuilder::new();
        for p in patterns {
            b.add(glob(p).map_err(|e| format!("invalid image pattern {p:?}: {e}"))?);
        }
        let set = b.build().map_err(|e| e.to_string())?;
        Ok(ImagePatterns { set })
    }

    /// Whether a pattern matches this reference (unparseable text never does).
    pub fn matches(&self, reference: &str) -> bool {
        let Ok(r) = crate::reference::Reference::parse(reference) else {
            return false;
        };
        let mut names = vec![
            r.path.clone(),
            r.repository(),
            format!("{}/{}", r.registry(), r.repository()),
        ];
        if let Some(d) = &r.domain {
            names.push(format!("{d}/{}", r.path));
        }
        if r.registry() == crate::reference::DOCKER_HUB {
            if let Some(short) = r.repository().strip_prefix("library/") {
                names.push(short.to_string());
            }
        }
        let tag = r.tag_or_latest();
        names.iter().any(|n| {
            self.set.is_match(n.as_str()) || self.set.is_match(format!("{n}:{tag}").as_str())
        })
    }
}

/// Whether a pattern matches a reference text as written, or its
/// normalized name (`docker.io/library/python`), with or without tag and
/// digest.
fn image_matches(set: &GlobSet, reference: &str) -> bool {
    if set.is_match(reference) {
        return true;
    }
    match crate::reference::Reference::parse(reference) {
        Ok(r) => {
            let name = format!("{}/{}", r.registry(), r.repository());
            set.is_match(&name) || set.is_match(r.normalized()) || set.is_match(r.path.as_str())
        }
        Err(_) => false,
    }
}

fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
}

fn normalize_host(host: &str) -> String {
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            crate::reference::DOCKER_HUB.to_string()
        }
        h => h.to_ascii_lowercase(),
    }
}

/// `90`, `90s`, `15m`, `1h`, `2d`.
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, "s"),
    };
    let n: u64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => return Some(Duration::from_millis(n)),
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86400)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

/// The toml error's message, prefixed with the key it is about when known
/// (`` `exclude`: invalid type: ... ``); the place is given separately.
fn toml_message(e: &toml::de::Error) -> String {
    // The key path is only part of the error's text when it has no input.
    let mut bare = e.clone();
    bare.set_input(None);
    let shown = bare.to_string();
    let key = shown
        .lines()
        .find_map(|l| l.strip_prefix("in `").and_then(|k| k.strip_suffix('`')));
    let message = e.message().trim_end();
    match key {
        Some(k) if !k.is_empty() => format!("`{k}`: {message}"),
        _ => message.to_string(),
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/repo/.imagepin.toml"), Path::new("/repo"))
    }

    #[test]
    fn full_config() {
        let c = parse(
            r#"
exclude = ["vendor/**"]
ignore-images = ["localhost:5000/*"]
cache-ttl = "2h"
[[files]]
glob = "deploy/**/*.yaml"
kind = "kubernetes"
[registries."index.docker.io"]
endpoint = "http://127.0.0.1:5000/"
insecure = true
ca-file = "ca.pem"
concurrency = 4
"#,
        )
        .unwrap();
        assert!(c.is_excluded(Path::new("/repo/vendor/x/Dockerfile")));
        assert!(!c.is_excluded(Path::new("/repo/src/Dockerfile")));
        assert!(c.is_ignored_image("localhost:5000/app:1"));
        assert!(!c.is_ignored_image("python:3"));
        assert_eq!(
            c.declared_kind(Path::new("/repo/deploy/a/b.yaml")),
            Some(crate::scan::kubernetes::KIND.id)
        );
        assert_eq!(c.cache_ttl, Duration::from_secs(7200));
        let r = c.registry("docker.io").unwrap();
        assert_eq!(r.endpoint.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(r.ca_file.as_deref(), Some(Path::new("/repo/ca.pem")));
        assert_eq!(r.concurrency, Some(4));
    }

    #[test]
    fn unknown_keys_name_key_and_file() {
        let e = parse("exclud = []").unwrap_err().to_string();
        assert!(e.contains(".imagepin.toml") && e.contains("exclud"), "{e}");
        let e = parse("[registries.\"x\"]\nendpont = \"http://a\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("endpont"), "{e}");
        let e = parse("[[files]]\nglob = \"*.y\"\nkind = \"helm\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("files[0].kind") && e.contains("helm"), "{e}");
        let e = parse("cache-ttl = \"soon\"").unwrap_err().to_string();
        assert!(e.contains("cache-ttl"), "{e}");
        let e = parse("[registries.r]\nendpoint = \"127.0.0.1:5000\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("endpoint"), "{e}");
    }

    #[test]
    fn type_errors_name_the_key_and_line_column() {
        let e = parse("exclude = \"vendor/**\"").unwrap_err().to_string();
        assert_eq!(
            e,
            "/repo/.imagepin.toml:1:11: `exclude`: invalid type: string \"vendor/**\", expected a sequence"
        );
        let e = parse("cache-ttl = \"1h\"\n[registries.\"ghcr.io\"]\ninsecure = \"yes\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "/repo/.imagepin.toml:3:12: `registries.ghcr.io.insecure`: invalid type: string \"yes\", expected a boolean"
        );
        // Columns count characters, not bytes.
        let e = parse("# é\nexclude = [\"ü\", 3]").unwrap_err().to_string();
        assert!(
            e.starts_with("/repo/.imagepin.toml:2:17: `exclude`: invalid type: integer `3`"),
            "{e}"
        );
    }

    #[test]
    fn concurrency_is_bounded_with_an_error_naming_the_key() {
        for bad in ["0", "257", "18446744073709551615", "9223372036854775807"] {
            let e = parse(&format!("[registries.\"ghcr.io\"]\nconcurrency = {bad}"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("registries.\"ghcr.io\".concurrency"),
                "{bad}: {e}"
            );
        }
        for good in ["1", "256"] {
            let c = parse(&format!("[registries.\"ghcr.io\"]\nconcurrency = {good}")).unwrap();
            assert!(c.registry("ghcr.io").unwrap().concurrency.is_some());
        }
    }
}

#[cfg(test)]
mod allow_tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/repo/.imagepin.toml"), Path::new("/repo"))
    }

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn allow_rules_match_paths_and_images() {
        let c = parse(
            r#"
[[allow]]
paths = ["compose.override.yaml", "test/**"]
reason = "local development floats"
[[allow]]
paths = ["**"]
images = ["docker.io/library/python*"]
reason = "base image chosen by CI"
expires = 2026-10-01
"#,
        )
        .unwrap();
        let numbers = |p: &str, r: &str| -> Vec<usize> {
            c.allow_rules(Path::new(p), &[r])
                .iter()
                .map(|a| a.number)
                .collect()
        };
        assert_eq!(numbers("/repo/compose.override.yaml", "app:dev"), [1]);
        assert_eq!(numbers("/repo/test/unit/Dockerfile", "python:3"), [1, 2]);
        assert_eq!(numbers("/repo/Dockerfile", "python:3.12"), [2]);
        assert!(numbers("/repo/Dockerfile", "node:20").is_empty());
        let rule = c.allow_rules(Path::new("/repo/Dockerfile"), &["python"])[0];
        assert_eq!(rule.expires, Date::parse("2026-10-01"));
        assert!(rule.active(Date::parse("2026-10-01").unwrap()));
        assert!(!rule.active(Date::parse("2026-10-02").unwrap()));
        assert!(
            c.allow_rules(Path::new("/repo/compose.override.yaml"), &["a"])[0]
                .active(Date::parse("9999-12-31").unwrap())
        );
    }

    #[test]
    fn allow_errors_name_the_key_and_place() {
        assert_eq!(
            err("[[allow]]\npaths = [\"x\"]\nreason = \"r\"\nexpire = \"2026-01-01\"\n"),
            "/repo/.imagepin.toml:4:1: `allow`: unknown field `expire`, expected one of `paths`, `images`, `reason`, `expires`"
        );
        assert_eq!(
            err("[[allow]]\npaths = [\"x\"]\n"),
            "/repo/.imagepin.toml:1:1: `allow`: missing field `reason`"
        );
        assert_eq!(
            err("[[allow]]\npaths = [\"x\"]\nreason = \"r\"\nexpires = \"2026-02-30\"\n"),
            "/repo/.imagepin.toml:4:11: `allow.expires`: invalid value: string \"2026-02-30\", expected a date YYYY-MM-DD"
        );
        assert_eq!(
            err("[[allow]]\npaths = [\"x\"]\nreason = \"r\"\nexpires = 2026-10-01T10:00:00\n"),
            "/repo/.imagepin.toml:4:11: `allow.expires`: invalid value: string \"2026-10-01T10:00:00\", expected a date YYYY-MM-DD"
        );
        assert_eq!(
            err("[[allow]]\npaths = [\"x\"]\nreason = \" \"\n"),
            "/repo/.imagepin.toml: `allow[0].reason`: an exception needs a reason (the text says why these references may stay unpinned)"
        );
        assert_eq!(
            err("[[allow]]\npaths = []\nreason = \"r\"\n"),
            "/repo/.imagepin.toml: `allow[0].paths`: list at least one glob (\"**\" for everywhere)"
        );
        assert!(
            parse("[[allow]]\npaths = [\"x\"]\nreason = \"r\"\nexpires = \"2028-02-29\"\n").is_ok()
        );
    }

    #[test]
    fn dates_from_the_clock() {
        assert_eq!(Date::from_unix(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix(951_782_400).to_string(), "2000-02-29");
        assert_eq!(Date::from_unix(1_798_675_200).to_string(), "2026-12-31");
        assert_eq!(Date::parse("2026-13-01"), None);
        assert_eq!(Date::parse("2026-1-01"), None);
        assert_eq!(Date::parse("+026-01-01"), None);
        for secs in [0, 951_782_400, 1_798_675_200, 4_102_444_800] {
            assert_eq!(Date::from_unix(secs).to_unix(), secs as i64);
        }
    }
}

#[cfg(test)]
mod image_pattern_tests {
    use super::*;

    #[test]
    fn only_patterns_match_the_repository_with_or_without_tag() {
        let p = |pats: &[&str]| {
            ImagePatterns::new(&pats.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
        };
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let python = p(&["python"]);
        assert!(python.matches("python:3.12"));
        assert!(python.matches(&format!("python:3.12@{d}")));
        assert!(python.matches("docker.io/library/python"));
        assert!(python.matches("index.docker.io/library/python:3"));
        assert!(!python.matches("python-tools:1"));
        assert!(!python.matches("ghcr.io/org/python:1"));
        assert!(!python.matches("${IMG}"));
        let tagged = p(&["python:3.12"]);
        assert!(tagged.matches(&format!("python:3.12@{d}")));
        assert!(!tagged.matches("python:3.11"));
        assert!(p(&["docker.io/library/python"]).matches("python:3.12"));
        assert!(p(&["ghcr.io/org/*"]).matches("ghcr.io/org/app:1"));
        assert!(p(&["ghcr.io/org/python"]).matches("ghcr.io/org/python:1"));
        assert!(ImagePatterns::new(&["a[".to_string()]).is_err());
    }
}
