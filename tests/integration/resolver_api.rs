//! The library API the rest of imagepin uses (`Resolver` as a
//! `DigestSource`) against a real registry: answers in order with one error
//! per failed tag, `digests_exist` for `--verify`, and the cache options
//! (`refresh` for `--update`, `offline`, `no_cache`). The environment is
//! passed explicitly, so nothing reads the user's files.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use crate::support;

use std::path::Path;

use crate::support::{Format, Image, Proxy, Registry};
use imagepin::Config;
use imagepin::ResolveEnv as Env;
use imagepin::{DigestRef, DigestSource, ResolveOptions, Resolver, TagRef};

struct Setup {
    reg: Registry,
    proxy: Proxy,
    config: Config,
    cache: tempfile::TempDir,
}

fn setup() -> Setup {
    let reg = Registry::anonymous();
    let proxy = Proxy::counting(reg.addr());
    let text = format!("[registries.\"ghcr.io\"]\nendpoint = \"{}\"\n", proxy.url());
    let config = Config::parse(&text, Path::new("/t/.imagepin.toml"), Path::new("/t")).unwrap();
    Setup {
        reg,
        proxy,
        config,
        cache: tempfile::tempdir().unwrap(),
    }
}

impl Setup {
    fn resolver(&self, opts: ResolveOptions) -> Resolver {
        let env = Env {
            xdg_cache_home: Some(self.cache.path().to_path_buf()),
            ..Env::default()
        };
        Resolver::with_env(&self.config, opts, env).unwrap()
    }
}

fn tag(repo: &str, tag: &str) -> TagRef {
    TagRef {
        registry: "ghcr.io".into(),
        repository: repo.into(),
        tag: tag.into(),
    }
}

#[test]
fn answers_in_order_with_one_error_per_failed_tag() {
    let s = setup();
    let a = Image::multi_arch("api-a", Format::Oci);
    let b = Image::single("api-b", Format::Docker);
    s.reg.pusher().push("org/a", "1", &a);
    s.reg.pusher().push("org/b", "2", &b);
    let refs = [
        tag("org/a", "1"),
        tag("org/missing", "1"),
        tag("org/b", "2"),
        tag("org/a", "1"),
    ];
    let got = s.resolver(ResolveOptions::default()).resolve_tags(&refs);
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].as_ref().unwrap(), &a.digest());
    let e = got[1].as_ref().unwrap_err();
    assert!(e.image.contains("org/missing"), "{e}");
    assert!(e.to_string().contains("not found"), "{e}");
    assert_eq!(got[2].as_ref().unwrap(), &b.digest());
    assert_eq!(got[3].as_ref().unwrap(), &a.digest());
    // duplicates are asked once
    assert_eq!(s.proxy.manifest_requests(), 3);
}

#[test]
fn digests_exist_for_verify() {
    let s = setup();
    let p = s.reg.pusher();
    let old = Image::multi_arch("verify-old", Format::Oci);
    let new = Image::multi_arch("verify-new", Format::Oci);
    let gone = Image::single("verify-gone", Format::Oci);
    p.push("org/app", "1", &old);
    p.push("org/app", "1", &new); // re-pointed: the old digest stays
    p.push("org/app", "tmp", &gone);
    p.delete_manifest("org/app", &gone.digest());
    let d = |digest: String| DigestRef {
        registry: "ghcr.io".into(),
        repository: "org/app".into(),
        digest,
    };
    let never = format!("sha256:{}", "0".repeat(64));
    let got = s.resolver(ResolveOptions::default()).digests_exist(&[
        d(old.digest()),
        d(new.digest()),
        d(gone.digest()),
        d(never),
    ]);
    let got: Vec<bool> = got.into_iter().map(Result::unwrap).collect();
    assert_eq!(got, [true, true, false, false]);
}

#[test]
fn refresh_asks_again_and_updates_the_cache() {
    let s = setup();
    let p = s.reg.pusher();
    let old = Image::single("refresh-old", Format::Oci);
    let new = Image::single("refresh-new", Format::Oci);
    p.push("org/app", "1", &old);
    let refs = [tag("org/app", "1")];
    let first = s.resolver(ResolveOptions::default()).resolve_tags(&refs);
    assert_eq!(first[0].as_ref().unwrap(), &old.digest());

    p.push("org/app", "1", &new);
    // a fresh cache entry answers without asking...
    let cached = s.resolver(ResolveOptions::default()).resolve_tags(&refs);
    assert_eq!(cached[0].as_ref().unwrap(), &old.digest());
    assert_eq!(s.proxy.manifest_requests(), 1);
    // ...`refresh` asks the registry and writes the answer back
    let refreshed = s
        .resolver(ResolveOptions {
            refresh: true,
            ..Default::default()
        })
        .resolve_tags(&refs);
    assert_eq!(refreshed[0].as_ref().unwrap(), &new.digest());
    let offline = s
        .resolver(ResolveOptions {
            offline: true,
            ..Default::default()
        })
        .resolve_tags(&refs);
    assert_eq!(offline[0].as_ref().unwrap(), &new.digest());
}

#[test]
fn no_cache_neither_reads_nor_writes() {
    let s = setup();
    let app = Image::single("nocache", Format::Oci);
    s.reg.pusher().push("org/app", "1", &app);
    let refs = [tag("org/app", "1")];
    let no_cache = ResolveOptions {
        no_cache: true,
        ..Default::default()
    };
    for _ in 0..2 {
        let got = s.resolver(no_cache.clone()).resolve_tags(&refs);
        assert_eq!(got[0].as_ref().unwrap(), &app.digest());
    }
    assert_eq!(s.proxy.manifest_requests(), 2);
    let offline = s
        .resolver(ResolveOptions {
            offline: true,
            ..Default::default()
        })
        .resolve_tags(&refs);
    let e = offline[0].as_ref().unwrap_err();
    assert!(e.image.contains("org/app"), "{e}");
}

#[test]
fn error_kinds_and_the_one_root_cause_of_real_failures() {
    use imagepin::{ErrorKind, root_cause};
    let s = setup();
    let got = s
        .resolver(ResolveOptions::default())
        .resolve_tags(&[tag("org/missing", "1")]);
    let e = got[0].as_ref().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    // Every lookup fails because the one registry is down: one cause.
    let closed = support::free_port();
    let text = format!("[registries.\"ghcr.io\"]\nendpoint = \"http://127.0.0.1:{closed}\"\n");
    let config = Config::parse(&text, Path::new("/t/.imagepin.toml"), Path::new("/t")).unwrap();
    let env = Env {
        xdg_cache_home: Some(s.cache.path().to_path_buf()),
        ..Env::default()
    };
    let r = Resolver::with_env(&config, ResolveOptions::default(), env).unwrap();
    let errors: Vec<_> = r
        .resolve_tags(&[tag("org/a", "1"), tag("org/b", "2"), tag("org/c", "3")])
        .into_iter()
        .map(|r| r.unwrap_err())
        .collect();
    assert!(
        errors.iter().all(|e| e.kind() == ErrorKind::Unreachable),
        "{errors:?}"
    );
    let cause = root_cause(&errors).unwrap();
    assert_eq!(cause.count, 3);
    assert!(
        cause.summary.starts_with("all 3 lookups failed"),
        "{cause:?}"
    );
}

#[test]
fn notes_say_what_was_used_for_verbose_output() {
    let s = setup();
    let a = Image::single("notes-a", Format::Oci);
    s.reg.pusher().push("org/a", "1", &a);
    let r = s.resolver(ResolveOptions::default());
    r.resolve_tags(&[tag("org/a", "1"), tag("org/a", "1")]);
    let notes = r.notes();
    assert_eq!(notes[0], "configuration: /t/.imagepin.toml", "{notes:?}");
    assert!(notes[1].starts_with("cache: 0 hits, 1 miss ("), "{notes:?}");
    assert!(
        notes.contains(&format!(
            "registry ghcr.io: {}; no credentials needed",
            s.proxy.url()
        )),
        "{notes:?}"
    );
    // A second resolver answers from the cache.
    let r = s.resolver(ResolveOptions::default());
    r.resolve_tags(&[tag("org/a", "1")]);
    assert!(
        r.notes()[1].starts_with("cache: 1 hit, 0 misses"),
        "{:?}",
        r.notes()
    );
}
