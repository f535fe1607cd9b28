//! `imagepin init [--force]`: writes the commented `.imagepin.toml` of
//! [`crate::init`] in the current directory (an existing one is kept unless
//! `--force`, which replaces it atomically; so is a parent directory's, which
//! a new file here would silently replace for everything below) and prints
//! the pre-commit and CI snippets for the repository on stdout.

use std::io::Write;

use super::{Env, Exit};
use crate::cli::InitArgs;
use crate::init;

pub(super) fn run(args: &InitArgs, env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let path = env.cwd.join(".imagepin.toml");
    let exists = std::fs::symlink_metadata(&path).is_ok();
    if exists && !args.force {
        let _ = writeln!(
            err,
            "imagepin: error: init: .imagepin.toml already exists; left as it is (--force replaces it)"
        );
        return Exit::Error;
    }
    if !exists && !args.force {
        // Discovery takes the nearest `.imagepin.toml` upward, so a new one
        // here would drop the parent's exclusions, registries and allow
        // list for this whole subtree.
        let parent = env.cwd.parent().and_then(|dir| {
            dir.ancestors()
                .map(|d| d.join(crate::config::FILE_NAME))
                .find(|p| p.symlink_metadata().is_ok())
        });
        if let Some(parent) = parent {
            let _ = writeln!(
                err,
                "imagepin: error: init: {} already configures this directory; a new \
                 .imagepin.toml here would replace it for everything below (--force writes one anyway)",
                parent.display()
            );
            return Exit::Error;
        }
    }
    if let Err(e) = write_new(&path, exists) {
        let _ = writeln!(
            err,
            "imagepin: error: init: cannot write .imagepin.toml: {e}"
        );
        return Exit::Error;
    }
    let verb = if exists { "replaced" } else { "wrote" };
    let _ = writeln!(
        err,
        "imagepin: {verb} .imagepin.toml (every setting commented out)"
    );
    let root = crate::report::RepoRoot::discover(
        &env.cwd,
        None,
        std::env::var_os("GIT_CEILING_DIRECTORIES").as_deref(),
    )
    .ok()
    .and_then(|r| r.dir().map(std::path::Path::to_path_buf))
    .unwrap_or_else(|| env.cwd.clone());
    let text = init::snippets(init::CiSeen::at(&root));
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return Exit::Error;
    }
    Exit::Clean
}

/// Writes the configuration: a new file is created only if the name is
/// still free; an existing one (`--force`) is replaced atomically, keeping
/// its owner and mode, as `--fix` replaces files.
fn write_new(path: &std::path::Path, exists: bool) -> Result<(), String> {
    if exists {
        let old = crate::fsio::read_regular_text(path, 16 * 1024 * 1024)?;
        return crate::rewrite::atomic::replace_file(path, &old, init::CONFIG)
            .map(|_| ())
            .map_err(|e| e.message);
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| e.to_string())?;
    file.write_all(init::CONFIG.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| e.to_string())
}
