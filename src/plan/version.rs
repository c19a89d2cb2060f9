//! Why this exists: a release's identity is a semantic version and a tag built from it; parsing
//! both strictly (with messages that say what was expected) is the first gate a release passes.

use semver::Version;

use crate::error::{Error, Result};

/// The longest version accepted, in characters: node-semver's `MAX_LENGTH`.
pub const MAX_LENGTH: usize = 256;

fn too_long(name: &str, value: &str) -> Error {
    Error::input(
        name,
        format!(
            "the version {:?}… is {} characters long; versions have at most {MAX_LENGTH} (npm's limit)",
            value.chars().take(40).collect::<String>(),
            value.chars().count()
        ),
    )
}

/// Whether an image tag may be `tag`: the OCI distribution spec's `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`
/// (so no `+build` metadata, and at most 128 characters).
pub fn valid_image_tag(tag: &str) -> bool {
    tag.len() <= 128
        && tag
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// Parses a version given by the user through input or flag `name` (e.g. `version`).
pub fn parse_version(name: &str, value: &str) -> Result<Version> {
    let trimmed = value.trim();
    if trimmed.chars().count() > MAX_LENGTH {
        return Err(too_long(name, trimmed));
    }
    Version::parse(trimmed).map_err(|e| {
        let hint = trimmed
            .strip_prefix(['v', 'V'])
            .filter(|rest| Version::parse(rest).is_ok())
            .map(|rest| format!("; did you mean {rest}?"))
            .unwrap_or_default();
        Error::input(
            name,
            format!("{value:?} is not a semantic version ({e}); expected MAJOR.MINOR.PATCH with optional -PRERELEASE and +BUILD, e.g. 1.4.0 or 2.0.0-rc.1{hint}"),
        )
    })
}

/// The tag for a version: `<prefix><version>`.
pub fn tag_for(prefix: &str, version: &Version) -> String {
    format!("{prefix}{version}")
}

/// Reads the version from a tag name that must be `<prefix><semver>`.
pub fn version_from_tag(tag: &str, prefix: &str) -> Result<Version> {
    let rest = tag.strip_prefix(prefix).ok_or_else(|| {
        Error::input(
            "tag",
            format!("tag {tag:?} does not start with the tag prefix {prefix:?} (config release.tag-prefix); release tags look like {prefix}1.2.3"),
        )
    })?;
    if rest.chars().count() > MAX_LENGTH {
        return Err(too_long("tag", rest));
    }
    Version::parse(rest).map_err(|e| {
        Error::input(
            "tag",
            format!("tag {tag:?} is not {prefix:?} followed by a semantic version: {rest:?} {e}; release tags look like {prefix}1.2.3 or {prefix}1.2.3-rc.1"),
        )
    })
}

/// Reads the version from a tag if it is `<prefix><semver>`, for scanning tags.
pub fn release_version_of(tag: &str, prefix: &str) -> Option<Version> {
    tag.strip_prefix(prefix)
        .filter(|rest| rest.len() <= MAX_LENGTH)
        .and_then(|rest| Version::parse(rest).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_v_gets_a_hint() {
        let err = parse_version("version", "v1.2.3").unwrap_err().to_string();
        assert!(
            err.starts_with("version: \"v1.2.3\" is not a semantic version"),
            "{err}"
        );
        assert!(err.ends_with("did you mean 1.2.3?"), "{err}");
    }

    #[test]
    fn tags_with_prefixes() {
        assert_eq!(version_from_tag("v1.2.3", "v").unwrap(), Version::new(1, 2, 3));
        assert_eq!(
            version_from_tag("cli-v0.1.0-rc.1", "cli-v").unwrap().to_string(),
            "0.1.0-rc.1"
        );
        assert_eq!(version_from_tag("1.0.0", "").unwrap(), Version::new(1, 0, 0));
        let err = version_from_tag("release-1.2.3", "v").unwrap_err().to_string();
        assert!(err.contains("does not start with the tag prefix \"v\""), "{err}");
        let err = version_from_tag("v1.2", "v").unwrap_err().to_string();
        assert!(err.contains("not \"v\" followed by a semantic version"), "{err}");
    }

    #[test]
    fn lengths_and_image_tags() {
        let long = format!("1.0.0-{}", "a".repeat(251));
        assert_eq!(long.len(), 257);
        let err = parse_version("version", &long).unwrap_err().to_string();
        assert!(
            err.contains("257 characters long") && err.contains("at most 256"),
            "{err}"
        );
        assert!(version_from_tag(&format!("v{long}"), "v").is_err());
        assert!(release_version_of(&format!("v{long}"), "v").is_none());
        assert!(parse_version("version", &long[..256]).is_ok());
        assert!(valid_image_tag("1.2.3-rc.1") && valid_image_tag("latest"));
        assert!(!valid_image_tag("1.2.3+build") && !valid_image_tag(".x") && !valid_image_tag(&"1".repeat(129)));
    }

    #[test]
    fn scanning_ignores_other_tags() {
        assert!(release_version_of("cli-v1.0.0", "v").is_none());
        assert!(release_version_of("vfoo", "v").is_none());
        assert_eq!(release_version_of("v2.0.0", "v"), Some(Version::new(2, 0, 0)));
    }
}
