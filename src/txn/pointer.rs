//! Why this exists: a release is visible through a handful of pointers — npm dist-tags, image
//! channel tags, the docs branch, git tags, GitHub's "latest" release. Flipping, checking,
//! compensating and rolling back are all "read a pointer, set it to a value", so every pointer
//! kind is read and written here, one way, whoever asks.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::targets::github::client::GitHubClient;
use crate::targets::npm::NpmTarget;
use crate::targets::oci::OciTarget;

/// A name that users follow to get "the" release of a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Pointer {
    /// An npm dist-tag (`latest`, `alpha`…); the value is a version.
    NpmTag {
        /// Registry base URL.
        registry: String,
        /// Package name.
        package: String,
        /// The dist-tag.
        tag: String,
    },
    /// A registry tag (`latest`, `alpha`…); the value is a manifest digest.
    ImageTag {
        /// `host/path`.
        repository: String,
        /// The tag.
        tag: String,
    },
    /// A branch of the repository (the docs site); the value is a commit.
    Branch {
        /// The branch name.
        branch: String,
    },
    /// A git tag that moves between releases (`v1`); the value is a commit.
    GitTag {
        /// The tag name.
        tag: String,
    },
    /// The release GitHub shows as "latest"; the value is its tag.
    GithubLatest,
}

impl Pointer {
    /// The target name used in steps and summaries.
    pub fn target(&self) -> &'static str {
        match self {
            Pointer::NpmTag { .. } => "npm",
            Pointer::ImageTag { .. } => "image",
            Pointer::Branch { .. } => "docs",
            Pointer::GitTag { .. } => "git-tag",
            Pointer::GithubLatest => crate::targets::github::TARGET,
        }
    }

    /// What users see, e.g. `@acme/cli@latest`, `ghcr.io/acme/widget:latest`, `gh-pages`.
    pub fn name(&self) -> String {
        match self {
            Pointer::NpmTag { package, tag, .. } => format!("{package}@{tag}"),
            Pointer::ImageTag { repository, tag } => format!("{repository}:{tag}"),
            Pointer::Branch { branch } => branch.clone(),
            Pointer::GitTag { tag } => format!("tag {tag}"),
            Pointer::GithubLatest => "the latest GitHub release".into(),
        }
    }
}

/// Shortens commits and digests for messages.
pub fn short(value: Option<&str>) -> String {
    match value {
        None => "nothing".into(),
        Some(v) if v.len() == 40 && v.bytes().all(|b| b.is_ascii_hexdigit()) => v[..12].to_string(),
        Some(v) if v.starts_with("sha256:") && v.len() > 19 => v.get(..19).unwrap_or(v).to_string(),
        Some(v) => v.to_string(),
    }
}

/// Reads and writes pointers through the targets' clients.
pub struct PointerIo<'a> {
    /// npm registries.
    pub npm: &'a NpmTarget,
    /// Container registries.
    pub oci: &'a OciTarget,
    /// The repository on GitHub.
    pub github: Option<&'a GitHubClient>,
}

impl PointerIo<'_> {
    fn github(&self, pointer: &Pointer) -> Result<&GitHubClient> {
        self.github.ok_or_else(|| {
            Error::input(
                "github-token",
                format!("{} lives on GitHub: give a token and GITHUB_REPOSITORY", pointer.name()),
            )
        })
    }

    /// The pointer's value now; `None` when it does not exist.
    pub fn read(&self, pointer: &Pointer) -> Result<Option<String>> {
        match pointer {
            Pointer::NpmTag { registry, package, tag } => self.npm.read_tag(registry, package, tag),
            Pointer::ImageTag { repository, tag } => self.oci.read_tag(repository, tag),
            Pointer::Branch { branch } => self.github(pointer)?.branch_commit(branch),
            Pointer::GitTag { tag } => self.github(pointer)?.tag_commit(tag),
            Pointer::GithubLatest => Ok(self.github(pointer)?.latest_release()?.map(|r| r.tag_name)),
        }
    }

    /// Whether the pointer can be made not to exist (a registry tag cannot be removed on its own:
    /// the distribution API deletes manifests, which would take the version tag along; GitHub has
    /// no "no latest release").
    pub fn removable(pointer: &Pointer) -> bool {
        !matches!(pointer, Pointer::ImageTag { .. } | Pointer::GithubLatest)
    }

    /// Sets the pointer to `value` (`None`: removes it). `restoring` allows a branch to move
    /// backwards; a forward flip only fast-forwards.
    pub fn write(&self, pointer: &Pointer, value: Option<&str>, restoring: bool) -> Result<()> {
        match (pointer, value) {
            (Pointer::NpmTag { registry, package, tag }, value) => self.npm.write_tag(registry, package, tag, value),
            (Pointer::ImageTag { repository, tag }, Some(digest)) => self.oci.write_tag(repository, tag, digest),
            (Pointer::Branch { branch }, Some(commit)) => {
                let client = self.github(pointer)?;
                let exists = client.branch_commit(branch)?.is_some();
                client.set_branch(branch, commit, !exists, restoring)
            }
            (Pointer::Branch { branch }, None) => self.github(pointer)?.delete_branch(branch),
            (Pointer::GitTag { tag }, Some(commit)) => self.github(pointer)?.move_tag(tag, commit),
            (Pointer::GitTag { tag }, None) => self.github(pointer)?.delete_tag(tag),
            (Pointer::GithubLatest, Some(tag)) => {
                let client = self.github(pointer)?;
                let release = client.release_by_tag(tag)?.ok_or_else(|| {
                    Error::Failed(format!(
                        "the release {tag} is gone from GitHub; it cannot be made latest again"
                    ))
                })?;
                client.update(
                    release.id,
                    &serde_json::json!({"make_latest": "true"}),
                    &format!("making {tag} the latest release"),
                )?;
                Ok(())
            }
            (Pointer::ImageTag { .. } | Pointer::GithubLatest, None) => Err(Error::Failed(format!(
                "{} cannot be removed on its own",
                pointer.name()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_serialize_with_their_kind() {
        let p = Pointer::NpmTag {
            registry: "https://registry.npmjs.org".into(),
            package: "@acme/cli".into(),
            tag: "latest".into(),
        };
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["kind"], "npm-tag");
        assert_eq!(serde_json::from_value::<Pointer>(json).unwrap(), p);
        assert_eq!(p.name(), "@acme/cli@latest");
        assert_eq!(
            serde_json::to_value(Pointer::GithubLatest).unwrap()["kind"],
            "github-latest"
        );
        assert_eq!(short(Some(&"a".repeat(40))), "aaaaaaaaaaaa");
        assert_eq!(short(None), "nothing");
    }
}
