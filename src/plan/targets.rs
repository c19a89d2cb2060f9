//! Why this exists: the plan names every place a release will change — the GitHub release, each
//! npm package, each image, the docs site, staging, the floating tags, the notifications — so
//! that `plan`, a dry run and the summary tell a maintainer the whole of it before anything moves.
//! Webhook URLs are not shown (they are often credentials); only where they point is said.

use std::path::Path;

use crate::config::{ArtifactKind, Config};
use crate::plan::PlannedTarget;

/// What the release of `version` (tagged `tag`) changes, in words.
pub fn planned(
    workspace: &Path,
    config: &Config,
    version: &semver::Version,
    tag: &str,
    repository: Option<&str>,
) -> Vec<PlannedTarget> {
    let prerelease = !version.pre.is_empty();
    let channel = crate::targets::channel_for(version);
    let mut targets = Vec::new();
    let mut add = |name: &str, description: String| {
        targets.push(PlannedTarget {
            name: name.to_string(),
            description,
        })
    };
    let on = repository.map(|r| format!(" on {r}")).unwrap_or_default();
    let state = if config.release.draft {
        "left as a draft"
    } else {
        "published"
    };
    add(
        "github-release",
        format!(
            "GitHub release {tag}{on}: created as a draft, {state}{}",
            if prerelease { ", marked as a prerelease" } else { "" }
        ),
    );
    for artifact in &config.artifacts {
        match artifact.kind {
            ArtifactKind::Npm => {
                let name = artifact
                    .path
                    .as_deref()
                    .and_then(|p| crate::build::npm_pack::package_name(&workspace.join(p)).ok())
                    .unwrap_or_else(|| artifact.display_name());
                add(
                    "npm",
                    format!(
                        "{name}@{version}: published under a staging dist-tag, then dist-tag {channel} moves to it"
                    ),
                );
            }
            ArtifactKind::Image => {
                if let Some(image) = &artifact.image {
                    add(
                        "image",
                        format!(
                            "{image}:{version} pushed by digest, then {}",
                            image_tags(config, &channel, prerelease)
                        ),
                    );
                }
            }
            _ => {}
        }
    }
    if let Some(docs) = &config.deploy.docs {
        let into = if docs.versioned {
            format!("{}/ and latest/ on {}", version, docs.branch)
        } else {
            docs.branch.clone()
        };
        let at = docs
            .url
            .as_deref()
            .map(|u| format!(", served at {u}"))
            .unwrap_or_default();
        add("docs", format!("the site in {} committed to {into}{at}", docs.path));
    }
    if let Some(staging) = &config.deploy.staging {
        let how = match (&staging.webhook, staging.command.is_empty()) {
            (Some(_), _) => "a signed webhook",
            (None, false) => "its command",
            (None, true) => "a GitHub deployment",
        };
        let smoke = if staging.smoke.is_some() {
            ", smoke-checked; a failed check puts every pointer back"
        } else {
            ""
        };
        add(
            "staging",
            format!(
                "deployed to the {} environment through {how}{smoke}",
                staging.environment
            ),
        );
    }
    if !config.release.floating_tags.is_empty() {
        let moves = if prerelease {
            "not moved by a prerelease".to_string()
        } else {
            "moved here if this is the highest release of their line".to_string()
        };
        add(
            "git-tag",
            format!("{}: {moves}", config.release.floating_tags.join(", ")),
        );
    }
    if !config.notify.webhooks.is_empty() {
        add(
            "notify",
            format!("{} webhook(s) told how the release went", config.notify.webhooks.len()),
        );
    }
    targets
}

/// Which tags of an image move: the channel's, and the version-line tags for a stable release.
fn image_tags(config: &Config, channel: &str, prerelease: bool) -> String {
    let lines: Vec<&str> = config
        .image
        .tags
        .iter()
        .filter(|t| t.contains("{major}"))
        .map(String::as_str)
        .collect();
    if prerelease || lines.is_empty() {
        format!("tag {channel} moves to it")
    } else {
        format!(
            "tag {channel} and {} move to it if it is the highest of its line",
            lines.join(", ")
        )
    }
}
