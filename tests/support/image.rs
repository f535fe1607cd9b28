//! Tiny deterministic images: a single-platform manifest (OCI or Docker
//! schema2) and a multi-arch index (OCI index or Docker manifest list), with
//! the exact bytes that get pushed, so tests know every digest in advance.

use serde_json::json;

use super::sha256;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// All four manifest types, as a client must send them in `Accept`.
pub const ACCEPT_ALL: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Oci,
    Docker,
}

impl Format {
    fn types(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Format::Oci => (
                OCI_MANIFEST,
                OCI_INDEX,
                "application/vnd.oci.image.config.v1+json",
                "application/vnd.oci.image.layer.v1.tar+gzip",
            ),
            Format::Docker => (
                DOCKER_MANIFEST,
                DOCKER_LIST,
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
            ),
        }
    }
}

/// A manifest (or index) exactly as pushed.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
}

impl Manifest {
    pub fn digest(&self) -> String {
        sha256(&self.bytes)
    }
}

/// An image: the top-level manifest the tag points to, the child manifests
/// of an index (pushed by digest first), and every blob.
#[derive(Debug, Clone)]
pub struct Image {
    pub top: Manifest,
    pub children: Vec<Manifest>,
    pub blobs: Vec<Vec<u8>>,
}

impl Image {
    /// The digest a tag pointing at this image resolves to (for an index:
    /// the index digest, as `docker buildx imagetools inspect` shows).
    pub fn digest(&self) -> String {
        self.top.digest()
    }

    /// One linux/amd64 image; `seed` makes its bytes (and digest) unique.
    pub fn single(seed: &str, format: Format) -> Image {
        let (top, blobs) = platform_manifest(seed, "amd64", format);
        Image {
            top,
            children: Vec::new(),
            blobs,
        }
    }

    /// A linux/amd64 + linux/arm64 index (OCI index or Docker manifest list).
    pub fn multi_arch(seed: &str, format: Format) -> Image {
        let (_, list_type, _, _) = format.types();
        let mut children = Vec::new();
        let mut blobs = Vec::new();
        let mut descriptors = Vec::new();
        for (arch, variant) in [("amd64", None), ("arm64", Some("v8"))] {
            let (m, b) = platform_manifest(seed, arch, format);
            let mut platform = json!({"architecture": arch, "os": "linux"});
            if let Some(v) = variant {
                platform["variant"] = json!(v);
            }
            descriptors.push(json!({
                "mediaType": m.media_type,
                "digest": m.digest(),
                "size": m.bytes.len(),
                "platform": platform,
            }));
            children.push(m);
            blobs.extend(b);
        }
        let index = json!({"schemaVersion": 2, "mediaType": list_type, "manifests": descriptors});
        Image {
            top: Manifest {
                media_type: list_type,
                bytes: to_bytes(&index),
            },
            children,
            blobs,
        }
    }
}

fn to_bytes(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("serialize JSON")
}

fn platform_manifest(seed: &str, arch: &str, format: Format) -> (Manifest, Vec<Vec<u8>>) {
    let (manifest_type, _, config_type, layer_type) = format.types();
    // The registry never looks inside layers; unique bytes are enough.
    let layer = format!("imagepin test layer seed={seed} arch={arch}\n").into_bytes();
    let config = to_bytes(&json!({
        "architecture": arch,
        "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256(&layer)]},
    }));
    let manifest = to_bytes(&json!({
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": {"mediaType": config_type, "digest": sha256(&config), "size": config.len()},
        "layers": [{"mediaType": layer_type, "digest": sha256(&layer), "size": layer.len()}],
    }));
    (
        Manifest {
            media_type: manifest_type,
            bytes: manifest,
        },
        vec![config, layer],
    )
}
