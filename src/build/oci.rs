//! Why this exists: an image built elsewhere (e.g. `docker buildx build --output type=oci`) arrives
//! as an OCI image layout and is pushed later without any daemon. Before anything is published the
//! layout is checked: `oci-layout`, `index.json`, and every manifest, config and layer blob present
//! with the size and digest its descriptor claims.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::build::checksum::{hex, sha256_file};
use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: String,
    digest: String,
    size: u64,
}

#[derive(Debug, Deserialize)]
struct Index {
    manifests: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    config: Descriptor,
    layers: Vec<Descriptor>,
}

/// What a valid layout holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutSummary {
    /// The digest of the first image (or index) in `index.json`, `sha256:<hex>`.
    pub digest: String,
    /// Its media type.
    pub media_type: String,
    /// Total bytes of all blobs referenced.
    pub size: u64,
}

fn invalid(artifact: &str, layout: &Path, message: String) -> Error {
    Error::input(
        format!("artifact {artifact:?}"),
        format!("OCI layout {}: {message}", layout.display()),
    )
}

/// A layout's files: a directory read in place, or a tar read once (hashing every entry and keeping
/// the small JSON documents), so nothing is unpacked and a dry run writes nothing.
enum Store {
    Dir(PathBuf),
    Tar(HashMap<String, (String, u64, Option<Vec<u8>>)>),
}

const SMALL: u64 = 4 << 20;

impl Store {
    fn open(layout: &Path) -> Result<Store> {
        if !layout.is_file() {
            return Ok(Store::Dir(layout.to_path_buf()));
        }
        let read_error = |e: std::io::Error| Error::ReadFile {
            path: layout.to_path_buf(),
            source: e,
        };
        let file = std::fs::File::open(layout).map_err(read_error)?;
        let mut archive = tar::Archive::new(std::io::BufReader::new(file));
        let mut entries = HashMap::new();
        for entry in archive.entries().map_err(read_error)? {
            let mut entry = entry.map_err(read_error)?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = entry
                .path()
                .map_err(read_error)?
                .to_string_lossy()
                .trim_start_matches("./")
                .to_string();
            let size = entry.header().size().map_err(read_error)?;
            let mut hasher = Sha256::new();
            let mut kept = (size <= SMALL).then(Vec::new);
            let mut buffer = vec![0u8; 1 << 16];
            loop {
                let n = entry.read(&mut buffer).map_err(read_error)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
                if let Some(kept) = kept.as_mut() {
                    kept.extend_from_slice(&buffer[..n]);
                }
            }
            entries.insert(name, (hex(&hasher.finalize()), size, kept));
        }
        Ok(Store::Tar(entries))
    }

    fn read(&self, name: &str) -> Option<Vec<u8>> {
        match self {
            Store::Dir(dir) => std::fs::read(dir.join(name)).ok(),
            Store::Tar(entries) => entries.get(name).and_then(|(_, _, kept)| kept.clone()),
        }
    }

    /// (sha256 hex, size) of a file.
    fn digest(&self, name: &str) -> Option<(String, u64)> {
        match self {
            Store::Dir(dir) => sha256_file(&dir.join(name)).ok().map(|d| (d.sha256, d.size)),
            Store::Tar(entries) => entries.get(name).map(|(sha, size, _)| (sha.clone(), *size)),
        }
    }
}

/// Checks a layout directory, or a tar of one.
pub fn validate(artifact: &str, layout: &Path) -> Result<LayoutSummary> {
    let store = Store::open(layout)?;
    let marker = store
        .read("oci-layout")
        .ok_or_else(|| invalid(artifact, layout, "no oci-layout file".into()))?;
    if !String::from_utf8_lossy(&marker).contains("imageLayoutVersion") {
        return Err(invalid(artifact, layout, "oci-layout has no imageLayoutVersion".into()));
    }
    let index_bytes = store
        .read("index.json")
        .ok_or_else(|| invalid(artifact, layout, "no index.json".into()))?;
    let index: Index =
        serde_json::from_slice(&index_bytes).map_err(|e| invalid(artifact, layout, format!("index.json: {e}")))?;
    let first = index
        .manifests
        .first()
        .ok_or_else(|| invalid(artifact, layout, "index.json lists no manifest".into()))?;
    let mut size = 0;
    for descriptor in &index.manifests {
        size += check_manifest(artifact, layout, &store, descriptor)?;
    }
    Ok(LayoutSummary {
        digest: first.digest.clone(),
        media_type: first.media_type.clone(),
        size,
    })
}

/// Checks a blob against its descriptor and returns its name in the layout.
fn check_blob(artifact: &str, layout: &Path, store: &Store, descriptor: &Descriptor) -> Result<String> {
    let (algorithm, hex) = descriptor
        .digest
        .split_once(':')
        .ok_or_else(|| invalid(artifact, layout, format!("{:?} is not a digest", descriptor.digest)))?;
    if algorithm != "sha256" || hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(
            artifact,
            layout,
            format!("{:?}: only sha256 digests are supported", descriptor.digest),
        ));
    }
    let name = format!("blobs/{algorithm}/{hex}");
    let (actual, size) = store
        .digest(&name)
        .ok_or_else(|| invalid(artifact, layout, format!("blob {} is missing", descriptor.digest)))?;
    if actual != hex {
        return Err(invalid(
            artifact,
            layout,
            format!(
                "blob {} does not match its digest (its content hashes to sha256:{actual})",
                descriptor.digest
            ),
        ));
    }
    if size != descriptor.size {
        return Err(invalid(
            artifact,
            layout,
            format!(
                "blob {} is {size} bytes, its descriptor says {}",
                descriptor.digest, descriptor.size
            ),
        ));
    }
    Ok(name)
}

fn check_manifest(artifact: &str, layout: &Path, store: &Store, descriptor: &Descriptor) -> Result<u64> {
    let name = check_blob(artifact, layout, store, descriptor)?;
    let bytes = store.read(&name).ok_or_else(|| {
        invalid(
            artifact,
            layout,
            format!("manifest {} is too large to be a manifest", descriptor.digest),
        )
    })?;
    let mut size = descriptor.size;
    if descriptor.media_type.contains("index") || descriptor.media_type.contains("manifest.list") {
        let index: Index = serde_json::from_slice(&bytes)
            .map_err(|e| invalid(artifact, layout, format!("{}: {e}", descriptor.digest)))?;
        for child in &index.manifests {
            size += check_manifest(artifact, layout, store, child)?;
        }
    } else {
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| invalid(artifact, layout, format!("{}: {e}", descriptor.digest)))?;
        for blob in std::iter::once(&manifest.config).chain(&manifest.layers) {
            check_blob(artifact, layout, store, blob)?;
            size += blob.size;
        }
    }
    Ok(size)
}

/// Writes a minimal valid OCI layout (one layer holding `file_name` with `content`) for tests.
pub fn write_test_layout(dir: &Path, file_name: &str, content: &[u8]) -> std::io::Result<String> {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs)?;
    let put = |bytes: &[u8]| -> std::io::Result<(String, u64)> {
        let hex = hex(&Sha256::digest(bytes));
        std::fs::write(blobs.join(&hex), bytes)?;
        Ok((format!("sha256:{hex}"), bytes.len() as u64))
    };
    let mut layer_tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    layer_tar.append_data(&mut header, file_name, content)?;
    let layer_bytes = layer_tar.into_inner()?;
    let diff_id = format!("sha256:{}", hex(&Sha256::digest(&layer_bytes)));
    let (layer, layer_size) = put(&layer_bytes)?;
    let config = serde_json::json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}, "config": {}});
    let (config_digest, config_size) = put(config.to_string().as_bytes())?;
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": layer_size}]
    });
    let (manifest_digest, manifest_size) = put(manifest.to_string().as_bytes())?;
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest_size}]});
    std::fs::write(dir.join("index.json"), index.to_string())?;
    Ok(manifest_digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_layout_and_tampered_blob() {
        let dir = tempfile::tempdir().unwrap();
        let layout = dir.path().join("layout");
        let digest = write_test_layout(&layout, "hello.txt", b"hello\n").unwrap();
        let summary = validate("img", &layout).unwrap();
        assert_eq!(summary.digest, digest);
        let layer = std::fs::read_dir(layout.join("blobs/sha256"))
            .unwrap()
            .flatten()
            .find(|e| std::fs::read(e.path()).unwrap().starts_with(b"hello.txt"))
            .unwrap()
            .path();
        std::fs::write(&layer, b"tampered").unwrap();
        let err = validate("img", &layout).unwrap_err().to_string();
        assert!(err.contains("does not match its digest"), "{err}");
    }

    #[test]
    fn tar_layouts_and_missing_pieces() {
        let dir = tempfile::tempdir().unwrap();
        let layout = dir.path().join("layout");
        write_test_layout(&layout, "a", b"a").unwrap();
        let tar_path = dir.path().join("layout.tar");
        let mut builder = tar::Builder::new(std::fs::File::create(&tar_path).unwrap());
        builder.append_dir_all(".", &layout).unwrap();
        builder.finish().unwrap();
        assert_eq!(validate("img", &tar_path).unwrap(), validate("img", &layout).unwrap());
        std::fs::remove_file(layout.join("index.json")).unwrap();
        assert!(
            validate("img", &layout)
                .unwrap_err()
                .to_string()
                .contains("no index.json")
        );
    }
}
