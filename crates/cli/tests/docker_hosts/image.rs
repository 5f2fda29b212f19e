//! The images, made here since no registry can be pulled from:
//!
//! - `wsgibench-base:bookworm`: a Debian 12 minbase made by `debootstrap` and
//!   `docker import`ed. Its tarball is cached in
//!   `${XDG_CACHE_HOME:-$HOME/.cache}/wsgibench-docker/`, so only the first run on a
//!   machine runs debootstrap; the import is skipped while the image exists.
//! - `wsgibench-test:<hash>`: the base plus the host's freshly built `wsgibench` and
//!   `wsgibench-testserver`, copied in (stripped when `strip` is there), keyed by a hash
//!   of both binaries and the Dockerfile, so an unchanged build reuses it. The host is
//!   Debian 12 too, so the binaries' glibc is the base's; the build checks with `ldd`.
//!
//! - `wsgibench-image-test:<hash>`: the project's own `Dockerfile`, built for real on the
//!   base (both of its base images), from the host's `wsgibench` (the context's
//!   `prebuilt/`) and wheels that the host's Debian Python builds from pip's cache (the
//!   context's `wheels/`): no Rust is compiled in Docker and pip asks no index there.
//!   Keyed by a hash of the whole context but the wheels, which the pins decide.
//!
//! Several test processes (other worktrees, nextest) take turns through lock files in
//! the cache folder. Images of ours (`wsgibench-test`, `wsgibench-image-test`) from
//! earlier builds that are over a day old and unused are removed; no other image is
//! touched. The classic builder keeps each build's two inner stages as untagged images:
//! they are the layer cache that makes the next build of a changed context quick.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use testkit::{find_program, outside_tool, outside_tool_installed_by, Tool};

use crate::run::{bounded, checked};

pub const BASE: &str = "wsgibench-base:bookworm";
/// The test images' repository: ours alone.
const TEST_REPOSITORY: &str = "wsgibench-test";
/// Unused test images older than this are removed.
const KEEP_OLD_IMAGES: Duration = Duration::from_secs(24 * 3600);
/// debootstrap fetches ~90 packages: a minute here; a slow mirror gets 15.
const DEBOOTSTRAP_BOUND: Duration = Duration::from_secs(900);
/// Another process may be running debootstrap under the lock.
const LOCK_BOUND: Duration = Duration::from_secs(1200);
pub const DOCKER_BOUND: Duration = Duration::from_secs(180);
/// The project image's repository: ours alone.
const PROJECT_REPOSITORY: &str = "wsgibench-image-test";
/// A cold build of the project's Dockerfile runs apt-get in two stages: 3 minutes here.
const PROJECT_BUILD_BOUND: Duration = Duration::from_secs(1200);
/// `pip wheel` of every pin: half a minute from pip's cache, a few minutes without
/// (uWSGI, bjoern and meinheld compile).
const WHEELS_BOUND: Duration = Duration::from_secs(900);

/// FROM and COPY only: every other instruction costs the classic builder a container
/// of its own (seconds on fuse-overlayfs). The check of the libraries is a `docker run`.
const DOCKERFILE: &str =
    "# wsgibench's Docker test image (crates/cli/tests/docker_hosts): the host's freshly
# built binaries on the locally made Debian base. Nothing is compiled or installed here.
FROM wsgibench-base:bookworm
COPY wsgibench wsgibench-testserver /usr/local/bin/
";

/// Run in a new test image: every shared library the binaries need is in the base.
const CHECK: &str = "missing=\"$(ldd /usr/local/bin/wsgibench /usr/local/bin/wsgibench-testserver | grep 'not found')\"; \
    if [ -n \"$missing\" ]; then echo \"missing shared libraries:\"; echo \"$missing\"; exit 1; fi; \
    wsgibench --version";

/// The test image's tag, made once per process; `None` when Docker is not there and
/// the test is skipped (said in one line; under CI that is a failure instead).
pub fn test_image() -> Option<String> {
    static IMAGE: OnceLock<Option<String>> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            if !docker_is_there() {
                return None;
            }
            let began = Instant::now();
            let cache = cache_dir();
            let _lock = Lock::take(&cache.join("lock"));
            ensure_base(&cache)?;
            let made_base = began.elapsed();
            let tag = ensure_test_image();
            eprintln!(
                "docker images ready in {:.1} s (base {:.1} s): {tag}",
                began.elapsed().as_secs_f64(),
                made_base.as_secs_f64()
            );
            Some(tag)
        })
        .clone()
}

/// The project's own image (`Dockerfile` at the root), built on the base: `None` when
/// Docker or debootstrap is not there (a skip outside CI, a failure under it).
pub fn project_image() -> Option<String> {
    static IMAGE: OnceLock<Option<String>> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            if !docker_is_there() {
                return None;
            }
            let cache = cache_dir();
            {
                let _lock = Lock::take(&cache.join("lock"));
                ensure_base(&cache)?;
            }
            // A lock of its own: the agent tests need only the base and go on.
            let _lock = Lock::take(&cache.join("project-image.lock"));
            ensure_project_image()
        })
        .clone()
}

/// `docker` is installed and its daemon answers.
fn docker_is_there() -> bool {
    let tool = Tool {
        name: "docker",
        debian_package: "docker.io",
    };
    if outside_tool(&tool, find_program(&["docker"])).is_none() {
        return false;
    }
    let ran = bounded(
        Command::new("docker").args(["version", "--format", "{{.Server.Version}}"]),
        Duration::from_secs(60),
    );
    if ran.ok() {
        return true;
    }
    let why = ran.stderr.lines().last().unwrap_or_default().to_string();
    assert!(
        !testkit::in_ci(),
        "CI is set and the Docker daemon cannot be reached: {why}"
    );
    eprintln!("skipped: the Docker daemon cannot be reached: {why}");
    false
}

fn cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .expect("HOME or XDG_CACHE_HOME is set");
    let dir = base.join("wsgibench-docker");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// An exclusive `flock` on a file, released when dropped (or when the process dies).
struct Lock(File);

impl Lock {
    fn take(path: &Path) -> Lock {
        let file = File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let began = Instant::now();
        let mut said = false;
        loop {
            // SAFETY: flock(2) on a descriptor this function owns.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Lock(file);
            }
            if !said {
                eprintln!("waiting for another test process making the docker images");
                said = true;
            }
            assert!(
                began.elapsed() < LOCK_BOUND,
                "{} still locked after {LOCK_BOUND:?}",
                path.display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // SAFETY: as above.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

fn docker() -> Command {
    Command::new("docker")
}

fn image_exists(tag: &str) -> bool {
    bounded(
        docker().args(["image", "inspect", "--format", "{{.Id}}", tag]),
        DOCKER_BOUND,
    )
    .ok()
}

/// The base image, imported from the cached tarball, made first if need be. `None`:
/// skipped (no debootstrap, or no root for it, outside CI).
fn ensure_base(cache: &Path) -> Option<()> {
    if image_exists(BASE) {
        return Some(());
    }
    let tarball = cache.join("bookworm-minbase.tar");
    if !tarball.exists() {
        debootstrap(cache, &tarball)?;
    }
    let began = Instant::now();
    checked(
        docker()
            .args([
                "import",
                "--message",
                "debootstrap --variant=minbase bookworm",
            ])
            .arg(&tarball)
            .arg(BASE),
        DOCKER_BOUND,
    );
    eprintln!(
        "imported {BASE} from {} in {:.1} s",
        tarball.display(),
        began.elapsed().as_secs_f64()
    );
    Some(())
}

/// `program` run as root: as it is when we are root, else through `sudo -n`.
fn as_root(program: &Path) -> Command {
    // SAFETY: geteuid(2) cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        Command::new(program)
    } else {
        let mut c = Command::new("sudo");
        c.arg("-n").arg("--").arg(program);
        c
    }
}

/// debootstrap a minbase bookworm into the cache folder and tar it to `tarball`.
fn debootstrap(cache: &Path, tarball: &Path) -> Option<()> {
    let program = outside_tool(
        &Tool {
            name: "debootstrap",
            debian_package: "debootstrap",
        },
        find_program(&["debootstrap", "/usr/sbin/debootstrap"]),
    )?;
    // SAFETY: geteuid(2) cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        let sudo_works = bounded(
            Command::new("sudo").args(["-n", "true"]),
            Duration::from_secs(30),
        )
        .ok();
        outside_tool_installed_by(
            "root for debootstrap",
            "run the tests as root, or allow this user sudo without a password",
            sudo_works.then_some(()),
        )?;
    }
    let root = cache.join("debootstrap.tmp");
    let remove_root = || {
        bounded(
            as_root(Path::new("rm")).arg("-rf").arg(&root),
            Duration::from_secs(120),
        )
    };
    // What a killed run left (we hold the lock: nobody else is making it).
    remove_root();
    let mirror = debian_mirror();
    let log_path = cache.join("debootstrap.log");
    let log = File::create(&log_path).unwrap();
    let began = Instant::now();
    let mut cmd = as_root(&program);
    cmd.args(["--variant=minbase", "bookworm"])
        .arg(&root)
        .arg(&mirror)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    let mut child = cmd.spawn().expect("debootstrap starts");
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if began.elapsed() > DEBOOTSTRAP_BOUND {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    if !status.success() {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        remove_root();
        panic!(
            "debootstrap --variant=minbase bookworm {mirror} failed ({status}) within {DEBOOTSTRAP_BOUND:?}; \
             the end of {}:\n{}",
            log_path.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    // The downloaded packages and the package lists: half the size, and no use in an
    // image that installs nothing.
    for (dir, name) in [
        ("var/cache/apt/archives", "*.deb"),
        ("var/lib/apt/lists", "*_*"),
    ] {
        checked(
            as_root(Path::new("find")).arg(root.join(dir)).args([
                "-maxdepth",
                "1",
                "-type",
                "f",
                "-name",
                name,
                "-delete",
            ]),
            Duration::from_secs(120),
        );
    }
    let partial = cache.join("bookworm-minbase.tar.partial");
    checked(
        as_root(Path::new("tar"))
            .args(["--numeric-owner", "-C"])
            .arg(&root)
            .arg("-cf")
            .arg(&partial)
            .arg("."),
        Duration::from_secs(300),
    );
    std::fs::rename(&partial, tarball).unwrap();
    remove_root();
    eprintln!(
        "debootstrap of bookworm from {mirror} and its tarball: {:.1} s ({} MB, {})",
        began.elapsed().as_secs_f64(),
        tarball.metadata().map(|m| m.len() >> 20).unwrap_or(0),
        tarball.display()
    );
    Some(())
}

/// `WSGIBENCH_DEBIAN_MIRROR`, else the first bookworm `main` source this machine's apt
/// uses (a local mirror or proxy is faster), else deb.debian.org.
fn debian_mirror() -> String {
    if let Some(m) = std::env::var("WSGIBENCH_DEBIAN_MIRROR")
        .ok()
        .filter(|m| !m.is_empty())
    {
        return m;
    }
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = dir.flatten().map(|e| e.path()).collect();
        more.sort();
        files.extend(more);
    }
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .find_map(|text| bookworm_source(&text))
        .unwrap_or_else(|| "http://deb.debian.org/debian".to_string())
}

/// The URI of a `bookworm` suite with `main`, in one-line (`deb URI bookworm main`) or
/// deb822 (`URIs:` / `Suites:` / `Components:`) form; plain http(s) only.
fn bookworm_source(text: &str) -> Option<String> {
    let usable = |uri: &str| uri.starts_with("http://") || uri.starts_with("https://");
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() != Some(&"deb") {
            continue;
        }
        // Options in brackets may follow `deb`.
        let rest: Vec<&str> = if words.get(1).is_some_and(|w| w.starts_with('[')) {
            let close = words.iter().position(|w| w.ends_with(']'))?;
            words[close + 1..].to_vec()
        } else {
            words[1..].to_vec()
        };
        if let [uri, "bookworm", components @ ..] = rest.as_slice() {
            if usable(uri) && components.contains(&"main") {
                return Some(uri.to_string());
            }
        }
    }
    for stanza in text.split("\n\n") {
        let field = |name: &str| {
            stanza.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            })
        };
        let (Some(uris), Some(suites), Some(components)) =
            (field("URIs"), field("Suites"), field("Components"))
        else {
            continue;
        };
        // No Types: field means deb.
        let deb = field("Types")
            .unwrap_or_else(|| vec!["deb".into()])
            .iter()
            .any(|t| t == "deb");
        if deb && suites.iter().any(|s| s == "bookworm") && components.iter().any(|c| c == "main") {
            if let Some(uri) = uris.into_iter().find(|u| usable(u)) {
                return Some(uri);
            }
        }
    }
    None
}

/// The freshly built binaries: `wsgibench` from cargo, `wsgibench-testserver` from
/// beside it (cargo gives a test only its own package's binaries; the testserver's
/// own tests make `cargo test --workspace` build it). A missing or older one is a
/// failure that says how to build it.
fn binaries() -> [PathBuf; 2] {
    let wsgibench = PathBuf::from(env!("CARGO_BIN_EXE_wsgibench"));
    let testserver = wsgibench.with_file_name("wsgibench-testserver");
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testserver");
    let newest_source = ["Cargo.toml", "src/main.rs", "src/lib.rs", "src/answers.rs"]
        .iter()
        .filter_map(|f| sources.join(f).metadata().and_then(|m| m.modified()).ok())
        .max()
        .unwrap_or(UNIX_EPOCH);
    let built = testserver.metadata().and_then(|m| m.modified()).ok();
    assert!(
        built.is_some_and(|b| b >= newest_source),
        "{} is {} than its sources: build it first with \
         `cargo build -p wsgibench-testserver` (cargo test --workspace does)",
        testserver.display(),
        if built.is_some() {
            "older"
        } else {
            "missing, not newer"
        }
    );
    [wsgibench, testserver]
}

/// The test image for these binaries: reused when it exists, else built.
fn ensure_test_image() -> String {
    let began = Instant::now();
    let context = tempfile::Builder::new()
        .prefix("wsgibench-docker-context.")
        .tempdir()
        .unwrap();
    std::fs::write(context.path().join("Dockerfile"), DOCKERFILE).unwrap();
    for bin in &binaries() {
        copy_stripped(bin, &context.path().join(bin.file_name().unwrap()));
    }
    let tag = format!("{TEST_REPOSITORY}:{}", tree_digest(context.path()));
    if image_exists(&tag) {
        return tag;
    }
    // The classic builder: it uses local images as they are and never asks a
    // registry, and needs no buildx.
    checked(
        docker()
            .env("DOCKER_BUILDKIT", "0")
            .args(["build", "--quiet", "--tag", &tag])
            .arg(context.path()),
        DOCKER_BOUND,
    );
    let check = bounded(
        docker().args(["run", "--rm", "--network", "none", &tag, "sh", "-c", CHECK]),
        DOCKER_BOUND,
    );
    if !check.ok() {
        // Not kept: a next run would take it as checked.
        let _ = bounded(docker().args(["rmi", &tag]), DOCKER_BOUND);
        panic!(
            "the binaries do not run on {BASE}:\n{}{}",
            check.stdout, check.stderr
        );
    }
    eprintln!("built {tag} in {:.1} s", began.elapsed().as_secs_f64());
    prune_old_images(TEST_REPOSITORY, &tag);
    tag
}

/// The repository's root, where `Dockerfile` is.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The project image for this checkout and binary: reused when it exists, else built.
fn ensure_project_image() -> Option<String> {
    let root = project_root();
    let context = tempfile::Builder::new()
        .prefix("wsgibench-image-context.")
        .tempdir()
        .unwrap();
    let ctx = context.path();
    // What the Dockerfile reads; the rest of the tree only matters to a Rust build.
    for file in ["Dockerfile", ".dockerignore"] {
        std::fs::copy(root.join(file), ctx.join(file)).unwrap();
    }
    for dir in ["python", "suites"] {
        testkit::copy_dir(&root.join(dir), &ctx.join(dir));
    }
    checked(
        Command::new("find").arg(ctx).args([
            "-name",
            "__pycache__",
            "-prune",
            "-exec",
            "rm",
            "-rf",
            "{}",
            "+",
        ]),
        Duration::from_secs(60),
    );
    let [wsgibench, _] = binaries();
    std::fs::create_dir(ctx.join("prebuilt")).unwrap();
    copy_stripped(&wsgibench, &ctx.join("prebuilt/wsgibench"));
    let tag = format!("{PROJECT_REPOSITORY}:{}", tree_digest(ctx));
    if image_exists(&tag) {
        return Some(tag);
    }
    let began = Instant::now();
    build_wheels(&root, &ctx.join("wheels"))?;
    let wheels_took = began.elapsed();
    checked(
        docker()
            .env("DOCKER_BUILDKIT", "0")
            .args(["build", "--quiet", "--tag", &tag])
            .args(["--build-arg", &format!("RUST_IMAGE={BASE}")])
            .args(["--build-arg", &format!("DEBIAN_IMAGE={BASE}")])
            .arg(ctx),
        PROJECT_BUILD_BOUND,
    );
    // What `Say how long the image build adds to CI` reads (docs/benchmarks.md).
    eprintln!(
        "built {tag} from the project's Dockerfile in {:.1} s (wheels {:.1} s)",
        began.elapsed().as_secs_f64(),
        wheels_took.as_secs_f64()
    );
    prune_old_images(PROJECT_REPOSITORY, &tag);
    Some(tag)
}

/// Every wheel that python/requirements*.txt pins, built by Debian's Python 3.11 (the
/// image's): pip takes what its cache holds, so only a cold machine compiles.
fn build_wheels(root: &Path, to: &Path) -> Option<()> {
    let python = outside_tool_installed_by(
        "Debian's python3 (3.11) with pip",
        "apt-get install python3 python3-pip",
        ["/usr/bin/python3", "python3"].into_iter().find(|p| {
            bounded(
                Command::new(p).args([
                    "-c",
                    "import sys, pip; sys.exit(sys.version_info[:2] != (3, 11))",
                ]),
                Duration::from_secs(60),
            )
            .ok()
        }),
    )?;
    let requirements = root.join("python");
    for (file, deps) in [
        ("requirements.txt", true),
        ("requirements-nodeps.txt", false),
    ] {
        let mut pip = Command::new(python);
        pip.args([
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg("--wheel-dir")
        .arg(to)
        .arg("-r")
        .arg(requirements.join(file));
        if !deps {
            pip.arg("--no-deps");
        }
        checked(&mut pip, WHEELS_BOUND);
    }
    Some(())
}

/// The first 16 hex digits of a SHA-256 over every file's path and content under
/// `dir`, so the same tree anywhere gives the same digest.
fn tree_digest(dir: &Path) -> String {
    let out = checked(
        Command::new("sh")
            .arg("-c")
            .arg("cd \"$1\" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum")
            .arg("sh")
            .arg(dir),
        Duration::from_secs(120),
    );
    out[..16].to_string()
}

/// `from` copied to `to`, stripped when `strip` is there: the debug binary shrinks to
/// a fifth, a faster build. The images need no symbols.
fn copy_stripped(from: &Path, to: &Path) {
    let stripped = find_program(&["strip"]).is_some_and(|s| {
        bounded(
            Command::new(s).arg("-o").arg(to).arg(from),
            Duration::from_secs(120),
        )
        .ok()
    });
    if !stripped {
        std::fs::copy(from, to).unwrap();
    }
}

/// Removes images of `repository` (ours) from earlier builds made over a day ago, but
/// `keep`. One in use by a container is left (`docker rmi` without `-f` refuses it),
/// and one made recently may be another test process's, just built.
fn prune_old_images(repository: &str, keep: &str) {
    let listed = bounded(
        docker().args(["images", repository, "--format", "{{.Repository}}:{{.Tag}}"]),
        DOCKER_BOUND,
    );
    let old: Vec<&str> = listed
        .stdout
        .lines()
        .filter(|t| *t != keep && !t.contains("<none>"))
        .collect();
    if old.is_empty() {
        return;
    }
    let created = bounded(
        docker()
            .args(["image", "inspect", "--format", "{{.Created}}"])
            .args(&old),
        DOCKER_BOUND,
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for (tag, created) in old.iter().zip(created.stdout.lines()) {
        let Some(at) = unix_seconds(created) else {
            continue;
        };
        if now.saturating_sub(at) > KEEP_OLD_IMAGES.as_secs() {
            let _ = bounded(docker().args(["rmi", tag]), DOCKER_BOUND);
        }
    }
}

/// Seconds since the epoch of an RFC 3339 UTC instant, `2026-12-02T02:25:43.1Z`.
fn unix_seconds(rfc3339: &str) -> Option<u64> {
    let n = |range: std::ops::Range<usize>| rfc3339.get(range)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Days from the civil date (H. Hinnant's algorithm), March-based years.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

#[test]
fn docker_times_are_read() {
    assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(unix_seconds("2000-03-01T00:00:00Z"), Some(951_868_800));
    assert_eq!(
        unix_seconds("2026-12-02T02:25:43.123456789Z"),
        Some(1_796_178_343)
    );
    assert_eq!(unix_seconds("yesterday"), None);
}

#[test]
fn apt_sources_give_the_bookworm_mirror() {
    let one_line = "# x\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main contrib\n";
    assert_eq!(
        bookworm_source(one_line).as_deref(),
        Some("http://mirror.example/debian")
    );
    let deb822 = "Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n\n\
                  Types: deb\nURIs: http://m.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n";
    assert_eq!(
        bookworm_source(deb822).as_deref(),
        Some("http://m.example/debian")
    );
    assert_eq!(
        bookworm_source("deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n"),
        None
    );
    assert_eq!(
        bookworm_source("deb http://deb.debian.org/debian trixie main\n"),
        None
    );
}
