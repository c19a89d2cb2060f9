//! Why this exists: in a monorepo released package by package, releasing one package can leave
//! its dependents pointing at the old version — a `workspace:` range was pinned to it when they
//! were published, a plain range may not include the new one — so they must be released too. Which
//! packages follow, and by how much, is a pure function of the dependency graph and the bumps
//! asked for; it is kept apart from git and the registry so it can be checked against changesets'
//! `assemble-release-plan` on the same graph.
//!
//! The rule is changesets' (`@changesets/assemble-release-plan` 7, `updateInternalDependents:
//! "out-of-range"`): a package is released, by at least `follow` (patch by default), when a package
//! it depends on (`dependencies`, `optionalDependencies`, `peerDependencies`) is released at a
//! version its range does not include — the range as it was published: `workspace:*` is the old
//! version exactly (so it always follows), `workspace:^` is `^old`, `workspace:~` is `~old`. A
//! `devDependencies` entry never makes a package follow: installing it from the registry does not
//! install those. Repeated until nothing changes, so dependents of dependents follow too.

use std::collections::BTreeMap;

use semver::Version;

use crate::config::BumpLevel;
use crate::error::Result;

/// One package of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its package name.
    pub name: String,
    /// Its current version.
    pub version: Version,
    /// Its dependencies on other packages of the graph.
    pub deps: Vec<Edge>,
}

/// A dependency of one package on another of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The package depended on.
    pub on: String,
    /// `dependencies`, `devDependencies`, `optionalDependencies` or `peerDependencies`.
    pub table: String,
    /// The range as written, e.g. `workspace:^` or `^1.2.0` (an `npm:` alias's range without the
    /// `npm:name@`).
    pub range: String,
}

/// What is asked of a package before its dependents are considered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// Bump it by this level.
    Level(BumpLevel),
    /// Release exactly this version (a pushed tag, `--version`, a resumed release).
    Exactly(Version),
    /// Release this version (its own commits' bump), or more if it must follow by more.
    AtLeast(Version),
}

/// One package the run releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// Its package name.
    pub name: String,
    /// Its version before.
    pub from: Version,
    /// The version released.
    pub to: Version,
    /// The packages released in the run that it depends on and follows (a package asked for may
    /// have some too).
    pub because: Vec<String>,
}

/// Whether a dependent on `edge` must be released when `edge.on` goes from `old` to `new`.
pub fn follows(edge: &Edge, old: &Version, new: &Version) -> bool {
    if edge.table == "devDependencies" {
        return false;
    }
    // What the range was when the dependent was published (pnpm's rewrite of `workspace:`).
    let range = match edge.range.strip_prefix("workspace:") {
        Some("*") => old.to_string(),
        Some(op @ ("^" | "~")) => format!("{op}{old}"),
        Some(range) if crate::workspaces::satisfies(range, old).is_some() => range.to_string(),
        // `workspace:../shared`: the package by path, published as its version.
        Some(_) => old.to_string(),
        None => edge.range.clone(),
    };
    // A range that is not a version range (a tag, a URL, `file:`) is left to the user.
    crate::workspaces::satisfies(&range, new) == Some(false)
}

/// The releases of a run: every package in `asked`, and every package that must follow one of
/// them, each released at `next(current, level)` (or its exact version); in dependency order.
pub fn assemble(
    nodes: &[Node],
    asked: &BTreeMap<String, Ask>,
    follow: BumpLevel,
    next: &dyn Fn(&Node, BumpLevel) -> Result<Version>,
) -> Result<Vec<Release>> {
    let node = |name: &str| nodes.iter().find(|n| n.name == name);
    // name → (ask, the packages it follows)
    let mut planned: BTreeMap<String, (Ask, Vec<String>)> = asked
        .iter()
        .filter(|(name, _)| node(name).is_some())
        .map(|(name, ask)| (name.clone(), (ask.clone(), Vec::new())))
        .collect();
    let version_of = |planned: &BTreeMap<String, (Ask, Vec<String>)>, n: &Node| -> Result<Option<Version>> {
        match planned.get(&n.name) {
            None => Ok(None),
            Some((Ask::Exactly(v), _)) => Ok(Some(v.clone())),
            Some((Ask::Level(level), _)) => next(n, *level).map(Some),
            Some((Ask::AtLeast(v), because)) if !because.is_empty() => {
                let followed = next(n, follow)?;
                Ok(Some(if followed.cmp_precedence(v).is_gt() {
                    followed
                } else {
                    v.clone()
                }))
            }
            Some((Ask::AtLeast(v), _)) => Ok(Some(v.clone())),
        }
    };
    loop {
        let mut changed = false;
        for dependent in nodes {
            for edge in &dependent.deps {
                let Some(dependency) = node(&edge.on) else { continue };
                let Some(new) = version_of(&planned, dependency)? else {
                    continue;
                };
                if !follows(edge, &dependency.version, &new) {
                    continue;
                }
                let entry = planned
                    .entry(dependent.name.clone())
                    .or_insert_with(|| (Ask::Level(BumpLevel::None), Vec::new()));
                if !entry.1.contains(&edge.on) {
                    entry.1.push(edge.on.clone());
                    changed = true;
                }
                if let Ask::Level(level) = &mut entry.0
                    && *level < follow
                {
                    *level = follow;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let graph: Vec<(String, Vec<String>)> = nodes
        .iter()
        .map(|n| {
            let deps = n
                .deps
                .iter()
                .filter(|e| e.table != "devDependencies")
                .map(|e| e.on.clone())
                .collect();
            (n.name.clone(), deps)
        })
        .collect();
    let mut out = Vec::new();
    for name in crate::workspaces::dependency_order(&graph) {
        let Some((_, because)) = planned.get(&name) else {
            continue;
        };
        let n = node(&name).expect("planned packages are nodes");
        let to = version_of(&planned, n)?.expect("planned");
        let mut because = because.clone();
        because.sort();
        out.push(Release {
            name,
            from: n.version.clone(),
            to,
            because,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    fn node(name: &str, version: &str, deps: &[(&str, &str, &str)]) -> Node {
        Node {
            name: name.into(),
            version: v(version),
            deps: deps
                .iter()
                .map(|(on, table, range)| Edge {
                    on: (*on).into(),
                    table: (*table).into(),
                    range: (*range).into(),
                })
                .collect(),
        }
    }

    fn bump(n: &Node, level: BumpLevel) -> Result<Version> {
        let kind = match level {
            BumpLevel::Major => crate::plan::bump::BumpKind::Major,
            BumpLevel::Minor => crate::plan::bump::BumpKind::Minor,
            _ => crate::plan::bump::BumpKind::Patch,
        };
        crate::plan::bump::inc(&n.version, kind, None)
    }

    fn run(nodes: &[Node], asked: &[(&str, Ask)], follow: BumpLevel) -> Vec<(String, String, Vec<String>)> {
        let asked = asked.iter().map(|(n, a)| (n.to_string(), a.clone())).collect();
        assemble(nodes, &asked, follow, &bump)
            .unwrap()
            .into_iter()
            .map(|r| (r.name, r.to.to_string(), r.because))
            .collect()
    }

    fn monorepo() -> Vec<Node> {
        vec![
            node(
                "cli",
                "1.0.0",
                &[
                    ("api", "dependencies", "workspace:*"),
                    ("shared", "dependencies", "workspace:*"),
                ],
            ),
            node("api", "1.0.0", &[("shared", "dependencies", "workspace:*")]),
            node("shared", "1.0.0", &[]),
        ]
    }

    #[test]
    fn dependents_follow_a_release_in_dependency_order() {
        let out = run(
            &monorepo(),
            &[("shared", Ask::Level(BumpLevel::Minor))],
            BumpLevel::Patch,
        );
        assert_eq!(
            out,
            vec![
                ("shared".into(), "1.1.0".into(), vec![]),
                ("api".into(), "1.0.1".into(), vec!["shared".into()]),
                ("cli".into(), "1.0.1".into(), vec!["api".into(), "shared".into()]),
            ]
        );
    }

    #[test]
    fn a_package_nobody_depends_on_releases_alone() {
        let out = run(&monorepo(), &[("cli", Ask::Level(BumpLevel::Patch))], BumpLevel::Patch);
        assert_eq!(out, vec![("cli".into(), "1.0.1".into(), vec![])]);
    }

    #[test]
    fn plain_ranges_follow_only_when_the_new_version_leaves_them() {
        let nodes = vec![
            node("a", "1.0.0", &[]),
            node("in-range", "2.0.0", &[("a", "dependencies", "^1.0.0")]),
            node("out-of-range", "3.0.0", &[("a", "peerDependencies", "~1.0.0")]),
            node("dev-only", "4.0.0", &[("a", "devDependencies", "workspace:*")]),
        ];
        let out = run(&nodes, &[("a", Ask::Level(BumpLevel::Minor))], BumpLevel::Patch);
        assert_eq!(
            out,
            vec![
                ("a".into(), "1.1.0".into(), vec![]),
                ("out-of-range".into(), "3.0.1".into(), vec!["a".into()]),
            ]
        );
    }

    #[test]
    fn the_minimum_bump_is_configurable_and_never_lowers_an_asked_bump() {
        let out = run(
            &monorepo(),
            &[
                ("shared", Ask::Level(BumpLevel::Patch)),
                ("api", Ask::Level(BumpLevel::Major)),
            ],
            BumpLevel::Minor,
        );
        assert_eq!(
            out,
            vec![
                ("shared".into(), "1.0.1".into(), vec![]),
                ("api".into(), "2.0.0".into(), vec!["shared".into()]),
                ("cli".into(), "1.1.0".into(), vec!["api".into(), "shared".into()]),
            ]
        );
    }

    #[test]
    fn an_exact_version_is_kept_and_its_dependents_follow() {
        let out = run(&monorepo(), &[("api", Ask::Exactly(v("1.0.5")))], BumpLevel::Patch);
        assert_eq!(
            out,
            vec![
                ("api".into(), "1.0.5".into(), vec![]),
                ("cli".into(), "1.0.1".into(), vec!["api".into()]),
            ]
        );
    }

    #[test]
    fn a_package_with_its_own_smaller_change_is_raised_to_the_minimum() {
        let out = run(
            &monorepo(),
            &[
                ("shared", Ask::Level(BumpLevel::Patch)),
                ("api", Ask::AtLeast(v("1.0.1"))),
            ],
            BumpLevel::Minor,
        );
        assert_eq!(out[1], ("api".into(), "1.1.0".into(), vec!["shared".into()]));
    }

    #[test]
    fn a_caret_workspace_range_follows_only_a_release_it_leaves() {
        let nodes = vec![
            node("shared", "1.2.0", &[]),
            node("api", "1.0.0", &[("shared", "dependencies", "workspace:^")]),
            node("web", "1.0.0", &[("shared", "dependencies", "workspace:~")]),
        ];
        let minor = run(&nodes, &[("shared", Ask::Level(BumpLevel::Minor))], BumpLevel::Patch);
        assert_eq!(
            minor.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
            ["shared", "web"]
        );
        let major = run(&nodes, &[("shared", Ask::Level(BumpLevel::Major))], BumpLevel::Patch);
        assert_eq!(major.len(), 3);
    }

    #[test]
    fn dependency_cycles_end() {
        let nodes = vec![
            node("a", "1.0.0", &[("b", "dependencies", "workspace:*")]),
            node("b", "1.0.0", &[("a", "dependencies", "workspace:*")]),
        ];
        let out = run(&nodes, &[("a", Ask::Level(BumpLevel::Patch))], BumpLevel::Patch);
        assert_eq!(out.len(), 2);
    }
}
