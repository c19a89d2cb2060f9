//! Why this exists: the worst thing a release tool can do is publish a package that cannot be
//! installed — `@acme/cli` depending on `@acme/shared@^0.2.0` when no such `@acme/shared` exists
//! anywhere. Before anything is staged, every dependency of every published package on a sibling
//! of its workspace (in `dependencies`, `optionalDependencies` and `peerDependencies`, as
//! published) must be satisfied by the version this release publishes of it, or by a version
//! already on its registry. Otherwise the release stops with exit 2 and nothing written.

use crate::error::{Error, Result};
use crate::targets::npm::{NpmPackage, NpmTarget};

/// Checks `packages` (the npm packages of this release); returns what was checked, in words. In a
/// dry run (`npm` offline) the registry is not asked: what only the registry could satisfy is
/// said, not checked.
pub fn check(packages: &[NpmPackage], npm: &NpmTarget) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    let mut problems = Vec::new();
    for package in packages {
        for dependency in package.dependencies.iter().filter(|d| d.table != "devDependencies") {
            let Some(sibling) = &dependency.sibling else { continue };
            let range = dependency
                .published
                .strip_prefix("npm:")
                .and_then(|rest| rest.get(1..).and_then(|r| r.find('@')).map(|i| &rest[i + 2..]))
                .unwrap_or(&dependency.published);
            let what = format!("{} needs {sibling} {range} ({})", package.name, dependency.table);
            let released = packages.iter().find(|p| p.name == *sibling);
            if let Some(released) = released {
                let version = semver::Version::parse(&released.version).map_err(|e| Error::Failed(e.to_string()))?;
                match crate::workspaces::satisfies(range, &version) {
                    Some(true) => {
                        notes.push(format!("{what}: this release publishes {sibling}@{}", released.version));
                        continue;
                    }
                    None => {
                        problems.push(format!("{what}: the range cannot be read as a semver range"));
                        continue;
                    }
                    Some(false) => {}
                }
            }
            if !npm.online() {
                notes.push(format!("{what}: would check {sibling} on {}", package.registry));
                continue;
            }
            let versions = npm.versions(&package.registry, sibling)?;
            let found = versions
                .iter()
                .filter_map(|v| semver::Version::parse(v).ok())
                .filter(|v| crate::workspaces::satisfies(range, v) == Some(true))
                .max();
            match found {
                Some(version) => notes.push(format!("{what}: {sibling}@{version} is on {}", package.registry)),
                None => problems.push(format!(
                    "{what}, but {} and no version of {sibling} on {} matches",
                    match released {
                        Some(r) => format!("this release publishes {sibling}@{}", r.version),
                        None => format!("this release does not publish {sibling}"),
                    },
                    package.registry
                )),
            }
        }
    }
    if problems.is_empty() {
        return Ok(notes);
    }
    Err(Error::input(
        "artifact",
        format!(
            "these packages could not be installed from the registry: {}; add an npm artifact for each missing sibling (released at this version) or use ranges its published versions satisfy — nothing was published",
            problems.join("; ")
        ),
    ))
}
