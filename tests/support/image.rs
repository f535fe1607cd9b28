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

/// One platform image with chosen dates: `created` in its config (RFC 3339,
/// or any string, e.g. the epoch) and the `org.opencontainers.image.created`
/// annotation on its manifest; `seed` makes its bytes unique.
#[derive(Debug, Clone, Default)]
pub struct Dated<'a> {
    pub seed: &'a str,
    /// `linux/amd64`, `linux/arm64/v8`, `unknown/unknown`.
    pub platform: &'a str,
    pub config_created: Option<&'a str>,
    pub annotation: Option<&'a str>,
    /// The `created` annotation on this image's entry in an index
    /// ([`index_of`]), as Docker's official images carry one.
    pub entry_annotation: Option<&'a str>,
}

impl Dated<'_> {
    /// The OCI image manifest and its blobs.
    pub fn image(&self) -> Image {
        let mut parts = self.platform.split('/');
        let os = parts.next().unwrap_or("linux");
        let arch = parts.next().unwrap_or("amd64");
        let variant = parts.next();
        let layer = format!(
            "imagepin dated layer seed={} platform={}\n",
            self.seed, self.platform
        )
        .into_bytes();
        let mut config = json!({
            "architecture": arch,
            "os": os,
            "config": {"Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": [sha256(&layer)]},
        });
        if let Some(v) = variant {
            config["variant"] = json!(v);
        }
        if let Some(c) = self.config_created {
            config["created"] = json!(c);
        }
        let config = to_bytes(&config);
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": sha256(&config), "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": sha256(&layer), "size": layer.len()}],
        });
        if let Some(a) = self.annotation {
            manifest["annotations"] = json!({"org.opencontainers.image.created": a});
        }
        Image {
            top: Manifest {
                media_type: OCI_MANIFEST,
                bytes: to_bytes(&manifest),
            },
            children: Vec::new(),
            blobs: vec![config, layer],
        }
    }
}

/// An OCI index of platform images (each child's `platform` from its
/// [`Dated::platform`]), with a BuildKit-style attestation entry
/// (`unknown/unknown`, `vnd.docker.reference.type`) for the first child
/// when `attestation`, and the created annotation on the index when given.
pub fn index_of(children: &[Dated<'_>], attestation: bool, annotation: Option<&str>) -> Image {
    let mut out_children = Vec::new();
    let mut blobs = Vec::new();
    let mut descriptors = Vec::new();
    for d in children {
        let img = d.image();
        let mut parts = d.platform.split('/');
        let mut platform = json!({
            "os": parts.next().unwrap_or("linux"),
            "architecture": parts.next().unwrap_or("amd64"),
        });
        if let Some(v) = parts.next() {
            platform["variant"] = json!(v);
        }
        let mut descriptor = json!({
            "mediaType": OCI_MANIFEST,
            "digest": img.top.digest(),
            "size": img.top.bytes.len(),
            "platform": platform,
        });
        if let Some(a) = d.entry_annotation {
            descriptor["annotations"] = json!({"org.opencontainers.image.created": a});
        }
        descriptors.push(descriptor);
        out_children.push(img.top);
        blobs.extend(img.blobs);
    }
    if attestation {
        let first = descriptors[0]["digest"].clone();
        let att = Dated {
            seed: "attestation",
            platform: "unknown/unknown",
            config_created: Some("2020-01-01T00:00:00Z"),
            annotation: None,
            entry_annotation: None,
        }
        .image();
        descriptors.push(json!({
            "mediaType": OCI_MANIFEST,
            "digest": att.top.digest(),
            "size": att.top.bytes.len(),
            "platform": {"os": "unknown", "architecture": "unknown"},
            "annotations": {
                "vnd.docker.reference.type": "attestation-manifest",
                "vnd.docker.reference.digest": first,
            },
        }));
        out_children.push(att.top);
        blobs.extend(att.blobs);
    }
    let mut index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors});
    if let Some(a) = annotation {
        index["annotations"] = json!({"org.opencontainers.image.created": a});
    }
    Image {
        top: Manifest {
            media_type: OCI_INDEX,
            bytes: to_bytes(&index),
        },
        children: out_children,
        blobs,
    }
}
