//! A sandbox for running the `imagepin` binary: a temp project directory
//! (the cwd, holding `.imagepin.toml`), and private cache, Docker config,
//! home and `bin/` (for credential helper fixtures) directories. The child
//! gets a cleared environment pointing into them, so no test reads or writes
//! the user's files, and every run is bounded in time.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs longer than this are killed and reported as timed out.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Workspace {
    root: tempfile::TempDir,
    pub dir: PathBuf,
    pub cache: PathBuf,
    pub docker_config: PathBuf,
    pub home: PathBuf,
    pub bin: PathBuf,
    /// Extra environment for runs (e.g. `IMAGEPIN_REQUEST_TIMEOUT`).
    env: Vec<(String, String)>,
}

/// The outcome of one run.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    /// Exit code; `None` when killed (timed out) or ended by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub timed_out: bool,
}

impl Run {
    /// The exit code, stdout and stderr as one text, for a snapshot.
    pub fn transcript(&self) -> String {
        super::cli::transcript(self.code, &self.stdout, &self.stderr)
    }

    /// `REF<TAB>DIGEST` lines of `imagepin resolve`.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.stdout
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(r, d)| (r.to_string(), d.to_string()))
            .collect()
    }

    /// The digest printed for `reference`, if any.
    pub fn digest_of(&self, reference: &str) -> Option<String> {
        self.pairs()
            .into_iter()
            .find(|(r, _)| r == reference)
            .map(|(_, d)| d)
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "imagepin {}\n  exit: {:?}{} after {:?}\n  stdout: {}\n  stderr: {}",
            self.args.join(" "),
            self.code,
            if self.timed_out { " (timed out)" } else { "" },
            self.elapsed,
            self.stdout.trim_end(),
            self.stderr.trim_end()
        )
    }
}

impl Workspace {
    pub fn new() -> Workspace {
        let root = tempfile::Builder::new()
            .prefix("imagepin-ws-")
            .tempdir()
            .expect("workspace");
        let sub = |name: &str| {
            let p = root.path().join(name);
            std::fs::create_dir_all(&p).expect("mkdir");
            p
        };
        Workspace {
            dir: sub("project"),
            cache: sub("cache"),
            docker_config: sub("docker"),
            home: sub("home"),
            bin: sub("bin"),
            env: Vec::new(),
            root,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Writes a file relative to the project directory.
    pub fn write(&self, rel: &str, contents: &str) {
        let p = self.dir.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(p, contents).expect("write file");
    }

    /// Writes `.imagepin.toml`.
    pub fn config(&self, toml: &str) {
        self.write(".imagepin.toml", toml);
    }

    /// Writes `$DOCKER_CONFIG/config.json`.
    pub fn docker_config(&self, json: &serde_json::Value) {
        std::fs::write(
            self.docker_config.join("config.json"),
            serde_json::to_vec_pretty(json).expect("json"),
        )
        .expect("write docker config");
    }

    /// Installs an executable script `bin/<name>` (on the run's PATH).
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.bin.join(name);
        std::fs::write(&p, body).expect("write script");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }

    /// Sets an environment variable for later runs.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_string(), value.to_string()));
    }

    pub fn imagepin(&self, args: &[&str]) -> Run {
        self.imagepin_within(args, DEFAULT_TIMEOUT)
    }

    /// Runs the binary in the project directory; kills it after `timeout`.
    pub fn imagepin_within(&self, args: &[&str], timeout: Duration) -> Run {
        run_bounded(self.command(args), args, timeout)
    }

    /// The sandboxed command [`Workspace::imagepin`] runs, for tests that
    /// spawn it themselves (to signal it, or to run it as another user).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = super::cli::command(&self.dir, args);
        cmd.env_clear()
            .env("PATH", self.path_var())
            .env("HOME", &self.home)
            .env("XDG_CACHE_HOME", &self.cache)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_RUNTIME_DIR", self.runtime_dir())
            .env("DOCKER_CONFIG", &self.docker_config)
            .env("NO_COLOR", "1");
        if let Some(v) = std::env::var_os("RUST_BACKTRACE") {
            cmd.env("RUST_BACKTRACE", v);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `cmd` (e.g. a [`Workspace::command`] wrapped in `setpriv`) like
    /// [`Workspace::imagepin_within`].
    pub fn run_bounded(&self, cmd: Command, args: &[&str], timeout: Duration) -> Run {
        run_bounded(cmd, args, timeout)
    }

    fn path_var(&self) -> std::ffi::OsString {
        let mut paths = vec![self.bin.clone()];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        ));
        std::env::join_paths(paths).expect("PATH")
    }

    /// `$XDG_RUNTIME_DIR` of runs (podman keeps `containers/auth.json` there).
    pub fn runtime_dir(&self) -> PathBuf {
        self.root.path().join("runtime")
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace::new()
    }
}

fn run_bounded(mut cmd: Command, args: &[&str], timeout: Duration) -> Run {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run imagepin");
    let out = child.stdout.take().expect("stdout");
    let err = child.stderr.take().expect("stderr");
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = r.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let (out, err) = (read(Box::new(out)), read(Box::new(err)));
    let mut timed_out = false;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break Some(st);
        }
        if start.elapsed() > timeout {
            timed_out = true;
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    // A grandchild (e.g. a credential helper) may still hold the pipes:
    // don't wait for it longer than a moment.
    let join = |h: std::thread::JoinHandle<String>| {
        let t = Instant::now();
        while !h.is_finished() && t.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
        if !h.is_finished() {
            return String::from("<output pipe still held open by a leftover process>");
        }
        h.join().unwrap_or_default()
    };
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: status.and_then(|s| s.code()),
        stdout: join(out),
        stderr: join(err),
        elapsed,
        timed_out,
    }
}
