//! Why this exists: a journal is read back from a release asset (or `dist/`), and anyone with write
//! access to the repository can replace a release asset. So a journal is untrusted input: before
//! a rollback or a resumed run acts on it, every pointer it names — registry, package, image
//! repository, branch, floating tag — must be one the current configuration could have moved.
//! Otherwise a doctored journal could send the npm token to another registry, or move a branch the
//! release never owned.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::targets::oci::parse_reference;
use crate::txn::journal::Journal;
use crate::txn::pointer::Pointer;

/// The pointers the configuration allows a release to move.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// npm: (registry without credentials, package name).
    pub npm: Vec<(String, String)>,
    /// Image repositories, as `host/path`.
    pub images: Vec<(String, String)>,
    /// The docs branch.
    pub branch: Option<String>,
    /// Floating tag templates (`v{major}`).
    pub floating: Vec<String>,
}

impl Scope {
    /// What `config` (with the package.json files of the checkout at `workspace`) may move.
    pub fn from_config(workspace: &std::path::Path, config: &Config) -> Result<Scope> {
        let npm = crate::txn::shipment::npm_identities(workspace, config)?
            .into_iter()
            .map(|p| (p.registry, p.name))
            .collect();
        let images = config
            .artifacts
            .iter()
            .filter_map(|a| a.image.as_deref())
            .map(|image| {
                let reference = parse_reference(image);
                (reference.host, reference.path)
            })
            .collect();
        Ok(Scope {
            npm,
            images,
            branch: config.deploy.docs.as_ref().map(|d| d.branch.clone()),
            floating: config.release.floating_tags.clone(),
        })
    }

    /// Whether a release under this configuration may move `pointer`.
    pub fn allows(&self, pointer: &Pointer) -> bool {
        match pointer {
            Pointer::NpmTag { registry, package, tag } => {
                // The very string requests go to, not a cleaned-up copy of it: a journal's
                // `https://evil.example\@registry.npmjs.org` cleans up to npmjs, but an HTTP client
                // sends it (and the npm token) to evil.example.
                let same = |r: &str| r.trim_end_matches('/') == registry.trim_end_matches('/');
                valid_tag(tag) && self.npm.iter().any(|(r, p)| same(r) && p == package)
            }
            Pointer::ImageTag { repository, tag } => {
                let reference = parse_reference(repository);
                crate::plan::version::valid_image_tag(tag)
                    && self
                        .images
                        .iter()
                        .any(|(h, p)| *h == reference.host && *p == reference.path)
            }
            Pointer::Branch { branch } => self.branch.as_deref() == Some(branch.as_str()),
            Pointer::GitTag { tag } => self.floating.iter().any(|template| floating_match(template, tag)),
            Pointer::GithubLatest => true,
        }
    }

    /// Refuses `journal` (exit 1, nothing moved) unless it is the journal of `tag` (tags are
    /// `prefix` + version) and every pointer it names is one this configuration may move;
    /// `origin` names where it was read.
    pub fn check(&self, journal: &Journal, tag: &str, prefix: &str, origin: &str) -> Result<()> {
        let version = crate::plan::version::release_version_of(tag, prefix).map(|v| v.to_string());
        if journal.tag != tag || version.as_deref() != Some(journal.version.as_str()) {
            return Err(Error::Failed(format!(
                "{origin} is the journal of {:?} ({:?}), not of {tag}; it was not written for this release — nothing was moved",
                journal.tag, journal.version
            )));
        }
        for step in &journal.steps {
            let Some(pointer) = &step.pointer else { continue };
            if let Some(value) = [&step.before, &step.after]
                .into_iter()
                .flatten()
                .find(|v| !value_fits(pointer, v))
            {
                return Err(Error::Failed(format!(
                    "{origin} records {value:?} for {}, which is not a value such a pointer has; the journal may have been edited — nothing was moved",
                    describe(pointer)
                )));
            }
            if !self.allows(pointer) {
                return Err(Error::Failed(format!(
                    "{origin} names a pointer this repository's configuration does not release to: {} ({}); the journal may have been edited — nothing was moved. Check the release's assets, or put the channels back by hand (README \"When a release goes wrong\")",
                    describe(pointer),
                    step.action.chars().take(200).collect::<String>()
                )));
            }
        }
        Ok(())
    }
}

/// A pointer with everything that says where it lives.
fn describe(pointer: &Pointer) -> String {
    match pointer {
        Pointer::NpmTag { registry, package, tag } => {
            format!(
                "npm dist-tag {package}@{tag} on {}",
                crate::redact::registry_url(registry).0
            )
        }
        Pointer::ImageTag { repository, tag } => format!("image tag {repository}:{tag}"),
        Pointer::Branch { branch } => format!("branch {branch:?}"),
        Pointer::GitTag { tag } => format!("git tag {tag:?}"),
        Pointer::GithubLatest => "GitHub's latest release".into(),
    }
}

/// Whether `value` is what `pointer` can point at: a version for npm, a digest for images, a
/// commit for branches and tags, a tag name for GitHub's latest (any release's: in a monorepo the
/// latest may be another package's).
fn value_fits(pointer: &Pointer, value: &str) -> bool {
    let hex = |v: &str, lengths: &[usize]| lengths.contains(&v.len()) && v.bytes().all(|b| b.is_ascii_hexdigit());
    match pointer {
        Pointer::NpmTag { .. } => semver::Version::parse(value).is_ok(),
        Pointer::ImageTag { .. } => value.strip_prefix("sha256:").is_some_and(|h| hex(h, &[64])),
        Pointer::Branch { .. } | Pointer::GitTag { .. } => hex(value, &[40, 64]),
        Pointer::GithubLatest => {
            value.len() <= 255
                && !value.chars().any(|c| c.is_control() || c.is_whitespace())
                && crate::targets::github::client::encode_ref(value).is_ok()
        }
    }
}

/// An npm dist-tag name as npm allows it: not empty, not a path, not a semver range.
fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && semver::VersionReq::parse(tag).is_err()
}

/// Whether `tag` is what `template` (`v{major}`, `v{major}.{minor}`) gives for some numbers.
fn floating_match(template: &str, tag: &str) -> bool {
    let pattern = regex::escape(template)
        .replace(r"\{major\}", "(0|[1-9][0-9]*)")
        .replace(r"\{minor\}", "(0|[1-9][0-9]*)");
    regex::Regex::new(&format!("^{pattern}$")).is_ok_and(|re| re.is_match(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            npm: vec![("https://registry.npmjs.org".into(), "@acme/cli".into())],
            images: vec![("ghcr.io".into(), "acme/widget".into())],
            branch: Some("gh-pages".into()),
            floating: vec!["v{major}".into()],
        }
    }

    #[test]
    fn only_configured_pointers_are_allowed() {
        let s = scope();
        let npm = |registry: &str, package: &str, tag: &str| Pointer::NpmTag {
            registry: registry.into(),
            package: package.into(),
            tag: tag.into(),
        };
        assert!(s.allows(&npm("https://registry.npmjs.org/", "@acme/cli", "latest")));
        assert!(!s.allows(&npm("https://evil.example.com", "@acme/cli", "latest")));
        assert!(!s.allows(&npm("https://evil.example\\@registry.npmjs.org", "@acme/cli", "latest")));
        assert!(!s.allows(&npm("https://x@registry.npmjs.org", "@acme/cli", "latest")));
        assert!(!s.allows(&npm("HTTPS://REGISTRY.NPMJS.ORG", "@acme/cli", "latest")));
        assert!(!s.allows(&npm("https://registry.npmjs.org", "@acme/other", "latest")));
        assert!(!s.allows(&npm("https://registry.npmjs.org", "@acme/cli", "../../x")));
        let image = |repository: &str, tag: &str| Pointer::ImageTag {
            repository: repository.into(),
            tag: tag.into(),
        };
        assert!(s.allows(&image("ghcr.io/acme/widget", "latest")));
        assert!(!s.allows(&image("evil.io/acme/widget", "latest")));
        assert!(!s.allows(&image("ghcr.io/acme/widget", "a/b")));
        assert!(s.allows(&Pointer::Branch {
            branch: "gh-pages".into()
        }));
        assert!(!s.allows(&Pointer::Branch {
            branch: "../../releases/latest".into()
        }));
        assert!(!s.allows(&Pointer::Branch { branch: "main".into() }));
        assert!(s.allows(&Pointer::GitTag { tag: "v12".into() }));
        assert!(!s.allows(&Pointer::GitTag { tag: "v1.2.3".into() }));
        assert!(!s.allows(&Pointer::GitTag { tag: "main".into() }));
    }
}
