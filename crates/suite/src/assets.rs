//! The Python apps, launchers, requirements and suite files `wsgibench run` needs.
//!
//! Run from a checkout, the files in it are used as they are, so editing
//! `suites/servers.toml` adds a server with no rebuild. Installed elsewhere, the binary
//! carries copies of them and writes them once to the cache folder.

use std::path::{Path, PathBuf};

/// The data files could not be found or unpacked.
#[derive(Debug, thiserror::Error)]
pub enum AssetsError {
    #[error("cannot read the current directory: {0}")]
    CurrentDir(std::io::Error),
    /// The cache folder is not writable (a full disk, a read-only home): pass
    /// `--cache-dir`.
    #[error("cannot write {}: {source}", path.display())]
    Unpack {
        path: PathBuf,
        source: std::io::Error,
    },
}

macro_rules! embed {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../", $path)))),*]
    };
}

const FILES: &[(&str, &str)] = embed!(
    "python/app.py",
    "python/apps/__init__.py",
    "python/apps/cpu.py",
    "python/apps/django_app.py",
    "python/apps/flask_app.py",
    "python/apps/io_wait.py",
    "python/apps/json_doc.py",
    "python/apps/large.py",
    "python/apps/stream.py",
    "python/apps/upload.py",
    "python/launchers/_common.py",
    "python/launchers/bjoern_server.py",
    "python/launchers/gevent_server.py",
    "python/launchers/meinheld_server.py",
    "python/launchers/pyruvate_server.py",
    "python/launchers/waitress_server.py",
    "python/requirements.txt",
    "python/requirements-nodeps.txt",
    "suites/servers.toml",
    "suites/apps.toml",
    "suites/original.toml",
    "suites/quick.toml",
    "suites/ci.toml",
);

/// Where the project's data files are.
pub struct Assets {
    pub root: PathBuf,
}

impl Assets {
    pub fn python_dir(&self) -> PathBuf {
        self.root.join("python")
    }

    pub fn apps_toml(&self) -> PathBuf {
        self.root.join("suites/apps.toml")
    }

    pub fn suite(&self, name: &str) -> PathBuf {
        self.root.join("suites").join(name)
    }

    /// The checkout in the current directory, else the embedded copies under `cache`.
    pub fn locate(cache: &Path) -> Result<Assets, AssetsError> {
        let here = std::env::current_dir().map_err(AssetsError::CurrentDir)?;
        if here.join("suites/servers.toml").is_file() && here.join("python/app.py").is_file() {
            return Ok(Assets { root: here });
        }
        // Keyed by content, so a newer binary never reuses an older copy.
        let key = FILES.iter().fold(0xcbf29ce484222325u64, |h, (p, text)| {
            p.bytes()
                .chain(text.bytes())
                .fold(h, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3))
        });
        let root = cache.join(format!("assets-{key:016x}"));
        for (path, text) in FILES {
            let target = root.join(path);
            if target.is_file() {
                continue;
            }
            let parent = target.parent().expect("embedded paths have a folder");
            std::fs::create_dir_all(parent).map_err(|source| AssetsError::Unpack {
                path: parent.to_path_buf(),
                source,
            })?;
            std::fs::write(&target, text).map_err(|source| AssetsError::Unpack {
                path: target.clone(),
                source,
            })?;
        }
        Ok(Assets { root })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file a run may read from python/ and suites/ travels in the binary: a
    /// launcher or app left out works from a checkout and fails anywhere else.
    #[test]
    fn every_python_and_suite_file_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    if entry.file_name() != "__pycache__" {
                        walk(&path, out);
                    }
                } else {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(&root.join("python"), &mut files);
        walk(&root.join("suites"), &mut files);
        let embedded: Vec<&str> = FILES.iter().map(|(p, _)| *p).collect();
        let missing: Vec<String> = files
            .iter()
            .filter(|f| {
                matches!(
                    f.extension().and_then(|e| e.to_str()),
                    Some("py" | "toml" | "txt")
                )
            })
            .map(|f| f.strip_prefix(&root).unwrap().display().to_string())
            .filter(|f| !embedded.contains(&f.as_str()))
            .collect();
        assert!(missing.is_empty(), "add to FILES in assets.rs: {missing:?}");
    }
}
