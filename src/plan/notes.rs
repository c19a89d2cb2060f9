//! Why this exists: release notes are what a user lands on, so they carry the changelog section
//! and how to install this exact version from every channel the release ships to (npm, docker,
//! downloads checked with `sha256sum -c`). A template file can arrange them differently.

use std::path::Path;

use crate::config::{ArtifactConfig, ArtifactKind};
use crate::error::{Error, FileLocation, Result};

/// The values a notes template can use.
pub struct NotesValues<'a> {
    /// The changelog section (Markdown).
    pub changelog: &'a str,
    /// The install instructions (Markdown; empty when nothing is installable).
    pub install: &'a str,
    /// The version.
    pub version: &'a str,
    /// The tag.
    pub tag: &'a str,
    /// The previous tag, or empty.
    pub previous_tag: &'a str,
    /// The repository's web URL, or empty.
    pub repository_url: &'a str,
}

/// Placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "changelog",
    "install",
    "version",
    "tag",
    "previous_tag",
    "repository_url",
];

/// How users can check what they downloaded, beyond `SHA256SUMS`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Checks<'a> {
    /// The fingerprint of the OpenPGP key that signs `SHA256SUMS`, when the release signs it.
    pub signer: Option<&'a str>,
    /// `owner/name` whose workflow attests the downloads and images, when it does.
    pub attested_in: Option<&'a str>,
}

/// Install instructions for every artifact channel, for this exact version, and how to check
/// the downloads.
pub fn install_section(
    workspace: &Path,
    artifacts: &[ArtifactConfig],
    version: &str,
    tag: &str,
    checks: Checks<'_>,
) -> String {
    let mut lines = Vec::new();
    for artifact in artifacts {
        match artifact.kind {
            ArtifactKind::Npm => {
                let name = artifact
                    .path
                    .as_deref()
                    .and_then(|p| npm_name(&workspace.join(p)))
                    .unwrap_or_else(|| artifact.display_name());
                lines.push(format!("npm install {name}@{version}"));
            }
            ArtifactKind::Image => {
                if let Some(image) = &artifact.image {
                    lines.push(format!("docker pull {image}:{version}"));
                }
            }
            _ => {}
        }
    }
    let downloads = artifacts
        .iter()
        .any(|a| matches!(a.kind, ArtifactKind::Archive | ArtifactKind::File));
    if lines.is_empty() && !downloads {
        return String::new();
    }
    let mut out = String::from("### Install\n\n");
    if !lines.is_empty() {
        out.push_str(&format!("```sh\n{}\n```\n", lines.join("\n")));
    }
    if downloads {
        if !lines.is_empty() {
            out.push('\n');
        }
        match checks.signer {
            Some(fingerprint) => out.push_str(&format!(
                "Download the assets of {tag} below, then check them. `SHA256SUMS` is signed by the OpenPGP key \
                 `{fingerprint}`; import that key from a source you trust, then:\n\n\
                 ```sh\ngpg --verify SHA256SUMS.asc SHA256SUMS\nsha256sum -c SHA256SUMS --ignore-missing\n```\n"
            )),
            None => out.push_str(&format!(
                "Download the assets of {tag} below, then check them:\n\n```sh\nsha256sum -c SHA256SUMS --ignore-missing\n```\n"
            )),
        }
    }
    if let Some(repository) = checks.attested_in {
        out.push_str(&format!(
            "\nEach download{} has a build provenance attestation from this repository's release workflow:\n\n\
             ```sh\ngh attestation verify FILE --repo {repository}\n{}```\n",
            if lines.iter().any(|l| l.starts_with("docker pull")) {
                " and image"
            } else {
                ""
            },
            if lines.iter().any(|l| l.starts_with("docker pull")) {
                format!("gh attestation verify oci://IMAGE@DIGEST --repo {repository}\n")
            } else {
                String::new()
            }
        ));
    }
    out
}

fn npm_name(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("package.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("name")?.as_str().map(str::to_string)
}

/// The notes: the template filled in, or changelog + install.
pub fn render(template: Option<(&str, &Path)>, values: &NotesValues<'_>) -> Result<String> {
    let Some((template, path)) = template else {
        let mut out = values.changelog.trim_end().to_string();
        out.push('\n');
        if !values.install.is_empty() {
            out.push('\n');
            out.push_str(values.install);
        }
        return Ok(out);
    };
    let mut out = String::with_capacity(template.len() + values.changelog.len());
    let mut rest = template;
    let mut consumed = 0;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or_else(|| template_error(template, path, consumed + open, "`{{` without a closing `}}`".into()))?;
        let name = after[..close].trim();
        let value = match name {
            "changelog" => values.changelog.trim_end(),
            "install" => values.install.trim_end(),
            "version" => values.version,
            "tag" => values.tag,
            "previous_tag" => values.previous_tag,
            "repository_url" => values.repository_url,
            other => {
                return Err(template_error(
                    template,
                    path,
                    consumed + open,
                    format!(
                        "unknown placeholder {{{{ {other} }}}}; allowed: {}",
                        PLACEHOLDERS.join(", ")
                    ),
                ));
            }
        };
        out.push_str(value);
        consumed += open + 2 + close + 2;
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn template_error(text: &str, path: &Path, offset: usize, message: String) -> Error {
    Error::Config {
        location: FileLocation::at(text, offset, path),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> NotesValues<'static> {
        NotesValues {
            changelog: "## 1.0.0\n",
            install: "### Install\n",
            version: "1.0.0",
            tag: "v1.0.0",
            previous_tag: "",
            repository_url: "",
        }
    }

    #[test]
    fn template_fills_placeholders() {
        let out = render(
            Some(("Hi {{ version }} ({{tag}})\n{{ changelog }}", Path::new("t.md"))),
            &values(),
        )
        .unwrap();
        assert_eq!(out, "Hi 1.0.0 (v1.0.0)\n## 1.0.0");
    }

    #[test]
    fn unknown_placeholder_is_located() {
        let err = render(Some(("line\n  {{ nope }}", Path::new("t.md"))), &values())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("t.md:2:3: unknown placeholder {{ nope }}; allowed: changelog"),
            "{err}"
        );
    }

    #[test]
    fn install_lists_channels() {
        let config = crate::config::Config::parse(
            "[[artifact]]\nname = \"widget\"\nkind = \"npm\"\n\n[[artifact]]\nkind = \"image\"\nimage = \"ghcr.io/acme/widget\"\n\n[[artifact]]\nname = \"w.tar.gz\"\nkind = \"archive\"\nfiles = [\"x\"]\n",
            Path::new("c.toml"),
        )
        .unwrap();
        let artifacts = config.artifacts;
        let out = install_section(Path::new("."), &artifacts, "1.2.3", "v1.2.3", Checks::default());
        assert!(
            out.contains("npm install widget@1.2.3\ndocker pull ghcr.io/acme/widget:1.2.3"),
            "{out}"
        );
        assert!(out.contains("sha256sum -c SHA256SUMS"), "{out}");
        assert!(!out.contains("gpg"), "{out}");
        let checks = Checks {
            signer: Some("ABCD1234"),
            attested_in: Some("acme/widget"),
        };
        let signed = install_section(Path::new("."), &artifacts, "1.2.3", "v1.2.3", checks);
        assert!(
            signed.contains("OpenPGP key `ABCD1234`")
                && signed.contains("gpg --verify SHA256SUMS.asc SHA256SUMS\nsha256sum -c SHA256SUMS"),
            "{signed}"
        );
        assert!(
            signed.contains(
                "gh attestation verify FILE --repo acme/widget\ngh attestation verify oci://IMAGE@DIGEST --repo acme/widget\n"
            ),
            "{signed}"
        );
    }
}
