//! Writes images straight into distribution's filesystem storage layout
//! (`<root>/docker/registry/v2/...`), for populating hundreds of tags in a
//! moment. Seed before the registry starts.

use std::path::Path;

use super::image::Image;
use super::sha256;

/// Stores `image` under `repo:tag` in the storage rooted at `root`.
pub fn seed_image(root: &Path, repo: &str, tag: &str, image: &Image) {
    let v2 = root.join("docker/registry/v2");
    let repo_dir = v2.join("repositories").join(repo);
    let blob = |bytes: &[u8]| -> String {
        let digest = sha256(bytes);
        let hex = &digest[7..];
        let path = v2.join(format!("blobs/sha256/{}/{hex}/data", &hex[..2]));
        if !path.exists() {
            write(&path, bytes);
        }
        digest
    };
    for b in &image.blobs {
        let d = blob(b);
        write(
            &repo_dir.join(format!("_layers/sha256/{}/link", &d[7..])),
            d.as_bytes(),
        );
    }
    for m in image.children.iter().chain([&image.top]) {
        let d = blob(&m.bytes);
        write(
            &repo_dir.join(format!("_manifests/revisions/sha256/{}/link", &d[7..])),
            d.as_bytes(),
        );
    }
    let d = image.digest();
    let tag_dir = repo_dir.join("_manifests/tags").join(tag);
    write(&tag_dir.join("current/link"), d.as_bytes());
    write(
        &tag_dir.join(format!("index/sha256/{}/link", &d[7..])),
        d.as_bytes(),
    );
}

fn write(path: &Path, bytes: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create storage dir");
    }
    std::fs::write(path, bytes).expect("write storage file");
}
