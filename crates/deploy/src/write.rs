//! Writing a render: YAML text per file, each file written whole (a temporary name in
//! the same folder, then a rename), and the agents' token.
//!
//! The token is drawn at random (32 bytes from the OS, as hex) the first time a
//! folder is rendered, and kept when the same folder is rendered again, so applying a
//! new render never leaves a running agent and its controller with different tokens.
//! It is written only to `01-secret.yaml`, mode 0600, and never printed. A placeholder
//! to replace by hand was the other choice; but one forgotten placeholder would leave
//! every agent in the cluster taking orders from anyone who read this source.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rand::RngCore;
use serde::Deserialize;

use crate::manifests::{File, SECRET_KEY};
use crate::RenderError;

/// The file that holds the token, whose mode is 0600.
pub const SECRET_FILE: &str = "01-secret.yaml";

/// A file's text: a comment saying what it is and how it was made, then its objects
/// as YAML documents.
pub fn yaml(file: &File) -> Result<String, RenderError> {
    let mut text = format!(
        "# {}.\n# Written by `wsgibench k8s render`; apply with `kubectl apply -f` on this folder.\n",
        file.about
    );
    for m in &file.manifests {
        text.push_str("---\n");
        let doc = serde_saphyr::to_string(m).map_err(|e| RenderError::Yaml {
            file: file.name,
            reason: e.to_string(),
        })?;
        text.push_str(&doc);
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    Ok(text)
}

/// Writes every file into `dir` (made if missing); returns the paths in order.
pub fn write_files(
    dir: &Path,
    files: &[(String, String)],
) -> Result<Vec<std::path::PathBuf>, RenderError> {
    fs::create_dir_all(dir).map_err(|source| RenderError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        let private = name == SECRET_FILE;
        write_atomic(&path, text.as_bytes(), private).map_err(|source| RenderError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// `bytes` to `path` through a temporary file renamed over it: a reader (or
/// `kubectl apply` run at the same moment) sees the old file or the new one. A
/// private file is created 0600 from the start, never readable by others in between.
fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Hidden and not ending in .yaml: `kubectl apply -f DIR` skips it if one is left.
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    options.mode(if private { 0o600 } else { 0o644 });
    let result = (|| {
        let mut f = options.open(&tmp)?;
        if private {
            // An earlier temporary file keeps its mode through `open`.
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(bytes)?;
        f.sync_data()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The token of an earlier render in `dir`, if its secret file holds one.
pub fn earlier_token(dir: &Path) -> Option<String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Secret {
        kind: String,
        #[serde(default)]
        string_data: std::collections::BTreeMap<String, String>,
    }
    let text = fs::read_to_string(dir.join(SECRET_FILE)).ok()?;
    let docs: Vec<Secret> = serde_saphyr::from_multiple(&text).ok()?;
    docs.into_iter()
        .filter(|d| d.kind == "Secret")
        .find_map(|d| d.string_data.get(SECRET_KEY).cloned())
        .filter(|t| t.len() >= 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// 32 random bytes from the operating system, as 64 hex digits.
pub fn new_token() -> Result<String, RenderError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| RenderError::Token(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
