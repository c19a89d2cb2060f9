//! Why this exists: independent mode (one version and tag per workspace package) changes what
//! several other settings can mean — a floating tag, a version file or a docs deploy has no one
//! version to follow — so the combinations that cannot work are refused here, when the config is
//! read, each naming the key and what to do instead.

use super::{ArtifactKind, BumpLevel, Config, ReleaseMode};

/// The tag template of independent mode when `package-tag` is not set.
pub const DEFAULT_PACKAGE_TAG: &str = "{name}@{version}";

/// Checks the `[release]` keys of independent mode. Errors are (key, message).
pub(super) fn check(config: &Config) -> Result<(), (&'static str, String)> {
    let release = &config.release;
    if release.mode == ReleaseMode::Fixed {
        if release.package_tag.is_some() || !release.package_tags.is_empty() {
            let key = if release.package_tag.is_some() {
                "package-tag"
            } else {
                "package-tags"
            };
            return Err((
                key,
                format!(
                    "release.{key} names the tags of independent versions, but release.mode is \"fixed\" (one tag-prefix for everything); set mode = \"independent\" or remove it"
                ),
            ));
        }
        return Ok(());
    }
    if release.dependents_bump == BumpLevel::None {
        return Err((
            "dependents-bump",
            "release.dependents-bump is \"none\", but a dependent must be released when a package it depends on is (its published range names the old version); it is patch, minor or major".into(),
        ));
    }
    if let Some(other) = config.artifacts.iter().find(|a| a.kind != ArtifactKind::Npm) {
        return Err((
            "mode",
            format!(
                "release.mode is \"independent\", which versions each npm package on its own, but the {} artifact {:?} belongs to no package; release it from a config with mode = \"fixed\"",
                other.kind.as_str(),
                other.display_name()
            ),
        ));
    }
    if !config.artifacts.iter().any(|a| a.kind == ArtifactKind::Npm) {
        return Err((
            "mode",
            "release.mode is \"independent\", which releases each package an npm [[artifact]] publishes, but there is none; add [[artifact]] kind = \"npm\" path = \"packages/NAME\" for each".into(),
        ));
    }
    let refused: [(&'static str, bool, &str); 6] = [
        (
            "floating-tags",
            !release.floating_tags.is_empty(),
            "a floating tag follows one version line",
        ),
        (
            "action-image",
            release.action_image.is_some(),
            "an action image is one version",
        ),
        (
            "files",
            !config.version.files.is_empty(),
            "each package's own package.json carries its version",
        ),
        (
            "commit",
            config.version.commit,
            "each package is tagged at the commit that is checked out",
        ),
        (
            "docs",
            config.deploy.docs.is_some(),
            "a docs site is deployed for one version",
        ),
        (
            "staging",
            config.deploy.staging.is_some(),
            "a staging deploy is of one version",
        ),
    ];
    if let Some((key, _, why)) = refused.iter().find(|(_, set, _)| *set) {
        return Err((
            key,
            format!(
                "{key} cannot be used with release.mode = \"independent\": {why}; remove it or use mode = \"fixed\""
            ),
        ));
    }
    let templates = release
        .package_tag
        .iter()
        .map(|t| ("package-tag", t))
        .chain(release.package_tags.values().map(|t| ("package-tags", t)));
    for (key, template) in templates {
        if let Some(problem) = template_problem(template) {
            return Err((key, format!("release.{key} {template:?} {problem}")));
        }
    }
    Ok(())
}

/// Why `template` cannot make tags, if it cannot.
fn template_problem(template: &str) -> Option<String> {
    let Some(prefix) = template.strip_suffix("{version}") else {
        return Some("must end with {version}, e.g. \"{name}@{version}\" or \"cli-v{version}\"".into());
    };
    let filled = prefix.replace("{name}", "@scope/name");
    if filled.contains(['{', '}']) {
        return Some("may name only {name} and {version}".into());
    }
    if let Some(bad) = super::bad_tag_char(&filled, "@") {
        return Some(format!(
            "contains {bad:?}; allowed are letters, digits, - _ . / @ and {{name}} {{version}}"
        ));
    }
    None
}

/// The tag prefix of the package `name` (its template without `{version}`).
pub fn package_tag_prefix(config: &Config, name: &str) -> String {
    let template = config
        .release
        .package_tags
        .get(name)
        .or(config.release.package_tag.as_ref())
        .map_or(DEFAULT_PACKAGE_TAG, String::as_str);
    template.trim_end_matches("{version}").replace("{name}", name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_end_with_the_version_and_name_only_the_package() {
        assert_eq!(template_problem("{name}@{version}"), None);
        assert_eq!(template_problem("cli-v{version}"), None);
        assert!(template_problem("{version}-{name}").unwrap().contains("must end"));
        assert!(template_problem("{pkg}@{version}").unwrap().contains("only"));
        assert!(template_problem("{name} {version}").unwrap().contains("' '"));
    }
}
