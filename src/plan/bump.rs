//! Why this exists: users move between tools, and the version a bump produces must be the one
//! npm's `semver.inc()` (node-semver 7.x) would produce — including its refusals — so `1.2.4-alpha.1`
//! plus `beta` is `1.2.4-beta.0` here exactly as in every npm-based tool. A differential test runs
//! the real node-semver over thousands of cases.

use semver::{BuildMetadata, Prerelease, Version};

use crate::error::{Error, Result};

/// A bump kind with node-semver's `inc()` semantics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BumpKind {
    /// `1.2.3 → 2.0.0`; `1.0.0-5 → 1.0.0`.
    Major,
    /// `1.2.3 → 1.3.0`; `1.2.0-5 → 1.2.0`.
    Minor,
    /// `1.2.3 → 1.2.4`; `1.2.0-5 → 1.2.0`.
    Patch,
    /// `1.2.3 → 2.0.0-0` (with a preid: `2.0.0-alpha.0`).
    Premajor,
    /// `1.2.3 → 1.3.0-0`.
    Preminor,
    /// `1.2.3 → 1.2.4-0`.
    Prepatch,
    /// `1.2.3 → 1.2.4-0`; `1.2.4-alpha.1 → 1.2.4-alpha.2`.
    Prerelease,
    /// `1.2.4-rc.1 → 1.2.4`; refused for a version without a prerelease part.
    Release,
}

/// What the user asked for with `--bump` / the `bump` input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bump {
    /// One of node-semver's kinds.
    Kind(BumpKind),
    /// `alpha`, `beta`, `rc`: `prerelease` on that channel.
    Channel(&'static str),
    /// From Conventional Commits since the current version.
    Auto,
}

/// Every accepted bump name, for messages and help.
pub const BUMP_NAMES: &[&str] = &[
    "major",
    "minor",
    "patch",
    "premajor",
    "preminor",
    "prepatch",
    "prerelease",
    "release",
    "alpha",
    "beta",
    "rc",
    "auto",
];

impl Bump {
    /// Parses a bump name given through input or flag `name`.
    pub fn parse(name: &str, text: &str) -> Result<Bump> {
        Ok(match text.trim() {
            "major" => Bump::Kind(BumpKind::Major),
            "minor" => Bump::Kind(BumpKind::Minor),
            "patch" => Bump::Kind(BumpKind::Patch),
            "premajor" => Bump::Kind(BumpKind::Premajor),
            "preminor" => Bump::Kind(BumpKind::Preminor),
            "prepatch" => Bump::Kind(BumpKind::Prepatch),
            "prerelease" => Bump::Kind(BumpKind::Prerelease),
            "release" => Bump::Kind(BumpKind::Release),
            "alpha" => Bump::Channel("alpha"),
            "beta" => Bump::Channel("beta"),
            "rc" => Bump::Channel("rc"),
            "auto" => Bump::Auto,
            other => {
                return Err(Error::input(
                    name,
                    format!("{other:?} is not a bump kind; allowed: {}", BUMP_NAMES.join(", ")),
                ));
            }
        })
    }
}

/// Checks a preid the way node-semver does: dot-separated identifiers, each numeric without
/// leading zeros or made of `[0-9A-Za-z-]` with at least one non-digit.
pub fn check_preid(name: &str, preid: &str) -> Result<()> {
    let valid = !preid.is_empty()
        && preid.split('.').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && (!part.bytes().all(|b| b.is_ascii_digit()) || part == "0" || !part.starts_with('0'))
        });
    if valid {
        Ok(())
    } else {
        Err(Error::input(
            name,
            format!(
                "{preid:?} is not a valid prerelease identifier; use letters, digits and hyphens, dot-separated, numbers without leading zeros (e.g. alpha, beta, rc, next)"
            ),
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ident {
    Num(u64),
    Str(String),
}

impl Ident {
    fn parse(text: &str) -> Ident {
        match text.parse::<u64>() {
            Ok(n) if text.bytes().all(|b| b.is_ascii_digit()) => Ident::Num(n),
            _ => Ident::Str(text.to_string()),
        }
    }

    /// node-semver's `compareIdentifiers(a, b) === 0`.
    fn same_as(&self, text: &str) -> bool {
        match self {
            Ident::Num(n) => text.bytes().all(|b| b.is_ascii_digit()) && text.parse::<u64>().ok() == Some(*n),
            Ident::Str(s) => s == text,
        }
    }

    fn render(&self) -> String {
        match self {
            Ident::Num(n) => n.to_string(),
            Ident::Str(s) => s.clone(),
        }
    }
}

struct Parts {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<Ident>,
}

impl Parts {
    fn step(&mut self, kind: BumpKind, preid: Option<&str>, original: &Version, start: u64) -> Result<()> {
        match kind {
            BumpKind::Premajor => {
                self.pre.clear();
                self.patch = 0;
                self.minor = 0;
                self.major += 1;
                self.pre_step(preid, start);
            }
            BumpKind::Preminor => {
                self.pre.clear();
                self.patch = 0;
                self.minor += 1;
                self.pre_step(preid, start);
            }
            BumpKind::Prepatch => {
                self.pre.clear();
                self.step(BumpKind::Patch, preid, original, start)?;
                self.pre_step(preid, start);
            }
            BumpKind::Prerelease => {
                if self.pre.is_empty() {
                    self.step(BumpKind::Patch, preid, original, start)?;
                }
                self.pre_step(preid, start);
            }
            BumpKind::Release => {
                if self.pre.is_empty() {
                    return Err(Error::input(
                        "bump",
                        format!(
                            "version {original} is not a prerelease; `release` only drops a prerelease part (1.2.4-rc.1 → 1.2.4)"
                        ),
                    ));
                }
                self.pre.clear();
            }
            BumpKind::Major => {
                if self.minor != 0 || self.patch != 0 || self.pre.is_empty() {
                    self.major += 1;
                }
                self.minor = 0;
                self.patch = 0;
                self.pre.clear();
            }
            BumpKind::Minor => {
                if self.patch != 0 || self.pre.is_empty() {
                    self.minor += 1;
                }
                self.patch = 0;
                self.pre.clear();
            }
            BumpKind::Patch => {
                if self.pre.is_empty() {
                    self.patch += 1;
                }
                self.pre.clear();
            }
        }
        Ok(())
    }

    /// node-semver's internal `pre` step, its `identifierBase` being `start`.
    fn pre_step(&mut self, preid: Option<&str>, start: u64) {
        if self.pre.is_empty() {
            self.pre = vec![Ident::Num(start)];
        } else if let Some(last) = self.pre.iter_mut().rev().find_map(|i| match i {
            Ident::Num(n) => Some(n),
            Ident::Str(_) => None,
        }) {
            *last += 1;
        } else {
            self.pre.push(Ident::Num(start));
        }
        if let Some(preid) = preid {
            let wanted = vec![Ident::Str(preid.to_string()), Ident::Num(start)];
            let parts: Vec<&str> = preid.split('.').collect();
            let on_channel = parts.len() <= self.pre.len() && parts.iter().zip(&self.pre).all(|(p, i)| i.same_as(p));
            if on_channel {
                if !matches!(self.pre.get(parts.len()), Some(Ident::Num(_))) {
                    self.pre = wanted;
                }
            } else {
                self.pre = wanted;
            }
        }
    }

    fn into_version(self) -> Version {
        let pre = self.pre.iter().map(Ident::render).collect::<Vec<_>>().join(".");
        Version {
            major: self.major,
            minor: self.minor,
            patch: self.patch,
            pre: Prerelease::new(&pre).expect("identifiers were checked"),
            build: BuildMetadata::EMPTY,
        }
    }
}

/// `semver.inc(version, kind, preid)` of node-semver 7.x. Build metadata is dropped, as there.
pub fn inc(version: &Version, kind: BumpKind, preid: Option<&str>) -> Result<Version> {
    inc_from(version, kind, preid, 0)
}

/// `semver.inc(version, kind, preid, identifierBase)`: a new prerelease counter starts at `start`
/// (0, node-semver's default, or 1, semantic-release's: `1.2.4-beta.1`).
pub fn inc_from(version: &Version, kind: BumpKind, preid: Option<&str>, start: u64) -> Result<Version> {
    let preid = preid.filter(|p| !p.is_empty());
    let pre_kind = matches!(
        kind,
        BumpKind::Premajor | BumpKind::Preminor | BumpKind::Prepatch | BumpKind::Prerelease
    );
    // node-semver checks the identifier only for the pre* kinds; the edges check it always.
    if let (true, Some(preid)) = (pre_kind, preid) {
        check_preid("preid", preid)?;
    }
    let mut parts = Parts {
        major: version.major,
        minor: version.minor,
        patch: version.patch,
        pre: if version.pre.is_empty() {
            Vec::new()
        } else {
            version.pre.split('.').map(Ident::parse).collect()
        },
    };
    parts.step(kind, preid, version, start)?;
    Ok(parts.into_version())
}

/// Applies a non-automatic [`Bump`]: a channel is `prerelease` with that preid (a different
/// `preid` alongside it is refused).
pub fn apply(version: &Version, bump: Bump, preid: Option<&str>) -> Result<Version> {
    apply_from(version, bump, preid, 0)
}

/// [`apply`] with new prerelease counters starting at `start`.
pub fn apply_from(version: &Version, bump: Bump, preid: Option<&str>, start: u64) -> Result<Version> {
    match bump {
        Bump::Kind(kind) => inc_from(version, kind, preid, start),
        Bump::Channel(channel) => {
            if let Some(other) = preid.filter(|p| !p.is_empty() && *p != channel) {
                return Err(Error::input(
                    "preid",
                    format!(
                        "bump {channel} already names the channel; preid {other:?} contradicts it (leave preid empty)"
                    ),
                ));
            }
            inc_from(version, BumpKind::Prerelease, Some(channel), start)
        }
        Bump::Auto => Err(Error::input(
            "bump",
            "auto reads the commits since the current release, so it needs the repository (plan::next_version)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    fn bump(version: &str, kind: &str, preid: Option<&str>) -> Option<String> {
        apply(&v(version), Bump::parse("bump", kind).unwrap(), preid)
            .ok()
            .map(|v| v.to_string())
    }

    #[test]
    fn counters_can_start_at_one() {
        for (from, kind, preid, want) in [
            ("1.2.3", BumpKind::Prerelease, Some("beta"), "1.2.4-beta.1"),
            ("1.2.3", BumpKind::Premajor, Some("rc"), "2.0.0-rc.1"),
            ("1.2.3", BumpKind::Preminor, None, "1.3.0-1"),
            ("1.2.4-beta.1", BumpKind::Prerelease, Some("beta"), "1.2.4-beta.2"),
            ("1.2.4-beta.3", BumpKind::Prerelease, Some("rc"), "1.2.4-rc.1"),
        ] {
            assert_eq!(inc_from(&v(from), kind, preid, 1).unwrap().to_string(), want, "{from}");
        }
    }

    /// Cases from node-semver's own test fixtures (test/fixtures/increments.js) and the issue.
    #[test]
    fn node_semver_table() {
        let table: &[(&str, &str, Option<&str>, Option<&str>)] = &[
            ("1.2.3", "major", None, Some("2.0.0")),
            ("1.2.3", "minor", None, Some("1.3.0")),
            ("1.2.3", "patch", None, Some("1.2.4")),
            ("1.2.3-tag", "major", None, Some("2.0.0")),
            ("1.0.0-1", "major", None, Some("1.0.0")),
            ("1.2.0-5", "minor", None, Some("1.2.0")),
            ("1.2.1-5", "minor", None, Some("1.3.0")),
            ("1.2.0-5", "patch", None, Some("1.2.0")),
            ("1.2.3", "prerelease", None, Some("1.2.4-0")),
            ("1.2.3-0", "prerelease", None, Some("1.2.3-1")),
            ("1.2.3-alpha.0", "prerelease", None, Some("1.2.3-alpha.1")),
            ("1.2.3-alpha.1", "prerelease", None, Some("1.2.3-alpha.2")),
            ("1.2.3-alpha.0.beta", "prerelease", None, Some("1.2.3-alpha.1.beta")),
            (
                "1.2.3-alpha.10.0.beta",
                "prerelease",
                None,
                Some("1.2.3-alpha.10.1.beta"),
            ),
            ("1.2.3-alpha.9.beta", "prerelease", None, Some("1.2.3-alpha.10.beta")),
            ("1.2.0", "prepatch", None, Some("1.2.1-0")),
            ("1.2.0-1", "prepatch", None, Some("1.2.1-0")),
            ("1.2.0", "preminor", None, Some("1.3.0-0")),
            ("1.2.3-1", "preminor", None, Some("1.3.0-0")),
            ("1.2.0", "premajor", None, Some("2.0.0-0")),
            ("1.2.3-1", "premajor", None, Some("2.0.0-0")),
            ("1.2.0-1", "minor", None, Some("1.2.0")),
            ("1.0.0-1", "major", None, Some("1.0.0")),
            ("1.2.3", "major", Some("dev"), Some("2.0.0")),
            ("1.2.3", "prerelease", Some("dev"), Some("1.2.4-dev.0")),
            ("1.2.3-dev", "prerelease", Some("dev"), Some("1.2.3-dev.0")),
            ("1.2.3-dev.0", "prerelease", Some("dev"), Some("1.2.3-dev.1")),
            ("1.2.3-dev.1", "prerelease", Some("alpha"), Some("1.2.3-alpha.0")),
            ("1.2.0", "prepatch", Some("dev"), Some("1.2.1-dev.0")),
            ("1.2.0-1", "prepatch", Some("dev"), Some("1.2.1-dev.0")),
            ("1.2.0", "preminor", Some("dev"), Some("1.3.0-dev.0")),
            ("1.2.3-1", "preminor", Some("dev"), Some("1.3.0-dev.0")),
            ("1.2.0", "premajor", Some("dev"), Some("2.0.0-dev.0")),
            ("1.2.3-1", "premajor", Some("dev"), Some("2.0.0-dev.0")),
            ("1.2.0-1", "prerelease", Some("dev"), Some("1.2.0-dev.0")),
            ("1.2.3-alpha.1.2", "prerelease", Some("alpha"), Some("1.2.3-alpha.1.3")),
            ("1.2.3-alpha.beta", "prerelease", Some("alpha"), Some("1.2.3-alpha.0")),
            ("1.2.3+build", "patch", None, Some("1.2.4")),
            ("1.2.4-rc.1", "release", None, Some("1.2.4")),
            ("1.2.3", "release", None, None),
            ("1.2.3", "prerelease", Some("01"), None),
            ("1.2.3", "prerelease", Some("a..b"), None),
            ("1.2.3", "prerelease", Some("a_b"), None),
            // The channel shorthands of the issue.
            ("1.2.3", "alpha", None, Some("1.2.4-alpha.0")),
            ("1.2.4-alpha.1", "alpha", None, Some("1.2.4-alpha.2")),
            ("1.2.4-alpha.1", "beta", None, Some("1.2.4-beta.0")),
            ("1.2.4-beta.3", "rc", None, Some("1.2.4-rc.0")),
            ("1.2.4-rc.0", "rc", Some("beta"), None),
        ];
        for (version, kind, preid, expected) in table {
            assert_eq!(
                bump(version, kind, *preid).as_deref(),
                *expected,
                "{version} {kind} {preid:?}"
            );
        }
    }

    #[test]
    fn unknown_kind_lists_the_kinds() {
        let err = Bump::parse("bump", "bogus").unwrap_err().to_string();
        assert_eq!(
            err,
            format!("bump: \"bogus\" is not a bump kind; allowed: {}", BUMP_NAMES.join(", "))
        );
    }

    #[test]
    fn bad_preid_names_the_value() {
        let err = inc(&v("1.0.0"), BumpKind::Prerelease, Some("al pha"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("preid: \"al pha\" is not a valid prerelease identifier"),
            "{err}"
        );
    }

    proptest::proptest! {
        #[test]
        fn every_bump_moves_forward(
            major in 0u64..50, minor in 0u64..50, patch in 0u64..50,
            pre in proptest::option::of("(alpha|beta|rc|0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]?)){0,2}"),
            kind in proptest::sample::select(&["major", "minor", "patch", "premajor", "preminor", "prepatch", "prerelease", "release"][..]),
            preid in proptest::option::of("(alpha|beta|rc|next)"),
        ) {
            let mut version = Version::new(major, minor, patch);
            if let Some(pre) = &pre {
                version.pre = Prerelease::new(pre).unwrap();
            }
            let bumped = inc(&version, match Bump::parse("bump", kind).unwrap() { Bump::Kind(k) => k, _ => unreachable!() }, preid.as_deref());
            match bumped {
                Ok(next) => {
                    // Moving to a channel that sorts lower (beta → alpha) goes backwards, as in node-semver.
                    let channel_switch = kind == "prerelease" && !version.pre.is_empty() && preid.as_deref().is_some_and(|id| !version.pre.as_str().starts_with(id));
                    proptest::prop_assert!(next > version || channel_switch, "{version} {kind} → {next}");
                    let is_pre_kind = kind.starts_with("pre");
                    proptest::prop_assert_eq!(!next.pre.is_empty(), is_pre_kind);
                    if let (true, Some(id)) = (is_pre_kind, &preid) {
                        proptest::prop_assert!(next.pre.as_str().starts_with(id.as_str()));
                    }
                }
                Err(_) => proptest::prop_assert!(kind == "release" && pre.is_none()),
            }
        }
    }
}
