//! Why this exists: a JavaScript monorepo names its packages in one place — `workspaces` in the
//! root package.json (npm, yarn classic and yarn berry: an array, or `{ "packages": [...] }`) or
//! `packages` in pnpm-workspace.yaml (with `!` exclusions) — and refers to its own packages with
//! the `workspace:` protocol, which only the workspace's package manager understands. The version
//! files, the npm packer and the pre-publish check all need the same answers: which packages are
//! siblings, and what a `workspace:` range becomes in a published package.json (as `pnpm publish`
//! rewrites it; an uninstallable `workspace:*` must never reach a registry).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Which file declares the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    /// `workspaces` in package.json: npm, yarn classic, yarn berry.
    PackageJson,
    /// `packages` in pnpm-workspace.yaml.
    Pnpm,
}

/// One package of a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Its folder, relative to the repository root.
    pub dir: PathBuf,
    /// `name` from its package.json (empty when it has none).
    pub name: String,
    /// `version` from its package.json.
    pub version: Option<String>,
}

/// A workspace: its root folder and its packages, sorted by folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// The folder holding the declaration, relative to the repository root ("" for the root).
    pub root: PathBuf,
    /// What declares it.
    pub manager: Manager,
    /// Its packages.
    pub members: Vec<Member>,
}

/// The dependency tables `pnpm publish` rewrites.
pub const DEPENDENCY_TABLES: [&str; 4] = [
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
];

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text)
        .map_err(|e| Error::input("package.json", format!("{} is not valid JSON: {e}", path.display())))
}

/// The `packages` of pnpm-workspace.yaml: (globs, `!` exclusions).
fn pnpm_patterns(path: &Path) -> Result<(Vec<String>, Vec<String>)> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |why: String| Error::input("pnpm-workspace.yaml", format!("{}: {why}", path.display()));
    let documents = yaml_rust2::YamlLoader::load_from_str(&text).map_err(|e| bad(format!("not YAML: {e}")))?;
    let Some(document) = documents.first() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let packages = &document["packages"];
    if packages.is_badvalue() || packages.is_null() {
        return Ok((Vec::new(), Vec::new()));
    }
    let list = packages
        .as_vec()
        .ok_or_else(|| bad("`packages` must be a list of globs".into()))?;
    split_exclusions(list.iter().map(|item| {
        item.as_str()
            .map(str::to_string)
            .ok_or_else(|| bad("`packages` must be a list of globs".into()))
    }))
}

fn split_exclusions(items: impl Iterator<Item = Result<String>>) -> Result<(Vec<String>, Vec<String>)> {
    let (mut include, mut exclude) = (Vec::new(), Vec::new());
    for item in items {
        let item = item?;
        match item.strip_prefix('!') {
            Some(rest) => exclude.push(rest.trim_start_matches("./").to_string()),
            None => include.push(item),
        }
    }
    Ok((include, exclude))
}

/// `workspaces` of a package.json: an array, or `{ "packages": [...] }` (yarn classic).
fn package_json_patterns(manifest: &serde_json::Value) -> Option<(Vec<String>, Vec<String>)> {
    let list = match manifest.get("workspaces")? {
        serde_json::Value::Array(list) => list,
        serde_json::Value::Object(map) => map.get("packages")?.as_array()?,
        _ => return None,
    };
    split_exclusions(list.iter().filter_map(|v| v.as_str()).map(|s| Ok(s.to_string()))).ok()
}

impl Workspace {
    /// The workspace declared in `root` (relative to `repo`): pnpm-workspace.yaml there, else
    /// `workspaces` in its package.json; `None` when neither declares one.
    pub fn at(repo: &Path, root: &Path) -> Result<Option<Workspace>> {
        let base = repo.join(root);
        let (manager, (include, exclude)) = if base.join("pnpm-workspace.yaml").is_file() {
            (Manager::Pnpm, pnpm_patterns(&base.join("pnpm-workspace.yaml"))?)
        } else if base.join("package.json").is_file() {
            match package_json_patterns(&read_json(&base.join("package.json"))?) {
                Some(patterns) => (Manager::PackageJson, patterns),
                None => return Ok(None),
            }
        } else {
            return Ok(None);
        };
        let mut members = Vec::new();
        for dir in crate::prepare::member_dirs(&base, &include, &exclude, "package.json")? {
            let dir = root.join(dir);
            let manifest = read_json(&repo.join(&dir).join("package.json"))?;
            members.push(Member {
                name: manifest["name"].as_str().unwrap_or_default().to_string(),
                version: manifest["version"].as_str().map(str::to_string),
                dir,
            });
        }
        Ok(Some(Workspace {
            root: root.to_path_buf(),
            manager,
            members,
        }))
    }

    /// The workspace that lists the package in `dir` (relative to `repo`): the nearest folder at
    /// or above it, inside the repository, that declares a workspace with `dir` among its members.
    pub fn containing(repo: &Path, dir: &Path) -> Result<Option<Workspace>> {
        for root in dir.ancestors() {
            if let Some(workspace) = Workspace::at(repo, root)?
                && workspace.members.iter().any(|m| m.dir == dir)
            {
                return Ok(Some(workspace));
            }
        }
        Ok(None)
    }

    /// The member named `name`.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }
}

/// One dependency of a package.json as it is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedDependency {
    /// `dependencies`, `peerDependencies`…
    pub table: String,
    /// The key (the alias, for `npm:` aliases).
    pub name: String,
    /// The range in the checkout, e.g. `workspace:^`.
    pub written: String,
    /// The range in the published package.json, e.g. `^0.1.0` (the same when not rewritten).
    pub published: String,
    /// The workspace package it names, when it is a sibling.
    pub sibling: Option<String>,
}

/// Every dependency of the package in `dir` (relative to `repo`) as `pnpm publish` writes it into
/// the published package.json: a `workspace:` range becomes the sibling's version
/// (`workspace:*` → `X`, `workspace:^` → `^X`, `workspace:~` → `~X`, `workspace:<range>` →
/// `<range>`, `workspace:<name>@^` → `npm:<name>@^X`, `workspace:./path` → that package's
/// version; in peerDependencies also `workspace:>=` → `>=X`). `version_of` gives a sibling's
/// version: the one being released, else its package.json's.
pub fn published_dependencies(
    repo: &Path,
    dir: &Path,
    workspace: Option<&Workspace>,
    version_of: &dyn Fn(&Member) -> Option<String>,
) -> Result<Vec<PublishedDependency>> {
    let manifest_path = repo.join(dir).join("package.json");
    let manifest = read_json(&manifest_path)?;
    let shown = dir.join("package.json");
    let mut out = Vec::new();
    for table in DEPENDENCY_TABLES {
        let Some(deps) = manifest.get(table).and_then(|d| d.as_object()) else {
            continue;
        };
        for (name, spec) in deps {
            let Some(spec) = spec.as_str() else { continue };
            let context = || format!("{}: {table}.{name} is {spec:?}", shown.display());
            let (published, sibling) = match spec.contains("workspace:") {
                false => (spec.to_string(), sibling_of(workspace, name, spec)),
                true => {
                    let Some(workspace) = workspace else {
                        return Err(Error::input(
                            "artifact",
                            format!(
                                "{}, but the package is in no workspace (no pnpm-workspace.yaml or package.json workspaces above it)",
                                context()
                            ),
                        ));
                    };
                    let rewritten = rewrite(workspace, dir, name, spec, table == "peerDependencies", version_of)
                        .map_err(|why| Error::input("artifact", format!("{}: {why}", context())))?;
                    let sibling = sibling_of(Some(workspace), name, &rewritten);
                    (rewritten, sibling)
                }
            };
            out.push(PublishedDependency {
                table: table.to_string(),
                name: name.clone(),
                written: spec.to_string(),
                published,
                sibling,
            });
        }
    }
    Ok(out)
}

/// The workspace package a dependency resolves to: its key, or the target of an `npm:` alias.
fn sibling_of(workspace: Option<&Workspace>, name: &str, spec: &str) -> Option<String> {
    let target = match spec.strip_prefix("npm:") {
        Some(rest) => {
            let at = rest.get(1..).and_then(|r| r.find('@')).map(|i| i + 1);
            at.map_or(rest, |i| &rest[..i])
        }
        None => name,
    };
    workspace?.member(target).map(|m| m.name.clone())
}

fn rewrite(
    workspace: &Workspace,
    dir: &Path,
    name: &str,
    spec: &str,
    peer: bool,
    version_of: &dyn Fn(&Member) -> Option<String>,
) -> std::result::Result<String, String> {
    let version = |member: &Member| {
        version_of(member).ok_or_else(|| format!("the workspace package {} has no version", member.name))
    };
    let named = |wanted: &str| {
        workspace
            .member(wanted)
            .ok_or_else(|| format!("no package of the workspace is named {wanted:?}"))
    };
    if peer {
        // pnpm: `workspace:` with an operator and no version gets the sibling's version; with a
        // version the protocol is just removed.
        let re = regex::Regex::new(r"workspace:([\^~*]|>=|>|<=|<)?((\d+|[xX*])(\.(\d+|[xX*])){0,2})?")
            .expect("a valid regex");
        if let Some(caps) = re.captures(spec) {
            if caps.get(2).is_some() {
                return Ok(spec.replacen("workspace:", "", 1));
            }
            let token = caps.get(1).map_or("", |m| m.as_str());
            let token = if token == "*" { "" } else { token };
            let sibling = named(name)?;
            return Ok(re
                .replace(spec, format!("{token}{}", version(sibling)?).as_str())
                .into_owned());
        }
        return Ok(spec.replacen("workspace:", "", 1));
    }
    let Some(rest) = spec.strip_prefix("workspace:") else {
        return Err("`workspace:` must start the range".into());
    };
    let bare = regex::Regex::new(r"^(.*?)@?([\^~*])$").expect("a valid regex");
    if let Some(caps) = bare.captures(rest) {
        let alias = &caps[1];
        let token = if &caps[2] == "*" { "" } else { &caps[2] };
        let sibling = named(if alias.is_empty() { name } else { alias })?;
        let version = version(sibling)?;
        return Ok(if sibling.name == name {
            format!("{token}{version}")
        } else {
            format!("npm:{}@{token}{version}", sibling.name)
        });
    }
    if rest.starts_with("./") || rest.starts_with("../") {
        let target = normalize(&dir.join(rest));
        let sibling = workspace
            .members
            .iter()
            .find(|m| m.dir == target)
            .ok_or_else(|| format!("{rest} is not a package of the workspace"))?;
        let version = version(sibling)?;
        return Ok(if sibling.name == name {
            version
        } else {
            format!("npm:{}@{version}", sibling.name)
        });
    }
    // `workspace:<range>` or `workspace:<alias>@<range>`: the protocol goes, the range stays; the
    // package must still be a sibling (pnpm refuses to install it otherwise).
    match rest.get(1..).and_then(|r| r.find('@')).map(|i| i + 1) {
        Some(at) => {
            named(&rest[..at])?;
            Ok(format!("npm:{rest}"))
        }
        None => {
            named(name)?;
            Ok(rest.to_string())
        }
    }
}

/// `a/b/../c` → `a/c`, lexically (the path is only compared with member folders).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Package names in an order where each comes after the packages it depends on
/// (`dependencies`, `optionalDependencies`, `peerDependencies`) among `packages` — config order
/// otherwise. `packages` is (name, internal dependency names).
pub fn dependency_order(packages: &[(String, Vec<String>)]) -> Vec<String> {
    let mut placed: Vec<String> = Vec::new();
    let mut visiting: Vec<&str> = Vec::new();
    fn visit<'a>(
        name: &'a str,
        packages: &'a [(String, Vec<String>)],
        placed: &mut Vec<String>,
        visiting: &mut Vec<&'a str>,
    ) {
        if placed.iter().any(|p| p == name) || visiting.contains(&name) {
            return;
        }
        visiting.push(name);
        if let Some((_, deps)) = packages.iter().find(|(n, _)| n == name) {
            for dep in deps {
                visit(dep, packages, placed, visiting);
            }
        }
        visiting.pop();
        if packages.iter().any(|(n, _)| n == name) {
            placed.push(name.to_string());
        }
    }
    for (name, _) in packages {
        visit(name, packages, &mut placed, &mut visiting);
    }
    placed
}

/// Whether npm would install `version` for `range` (node-semver's `satisfies`, for the ranges
/// internal dependencies use: exact versions, `^` `~` `>=` `>` `<=` `<` `=`, `x`/`*` wildcards,
/// space-separated comparator sets, `||` and hyphen ranges). `None` when the range is not one of
/// those (a tag, a URL, `file:`).
pub fn satisfies(range: &str, version: &semver::Version) -> Option<bool> {
    let range = range.trim();
    if range.is_empty() || range == "*" || range.eq_ignore_ascii_case("x") {
        return Some(version.pre.is_empty());
    }
    let mut any = false;
    for alternative in range.split("||") {
        if node_comparators(alternative.trim())?.matches(version) {
            any = true;
        }
    }
    Some(any)
}

/// One node-semver comparator set as a Rust `VersionReq` (whose bare version means `^`, and
/// whose prerelease rule is node's: a prerelease matches only a comparator of its own x.y.z).
fn node_comparators(set: &str) -> Option<semver::VersionReq> {
    if set.is_empty() || set == "*" {
        return semver::VersionReq::parse("*").ok();
    }
    let hyphen = regex::Regex::new(r"^(\S+)\s+-\s+(\S+)$").expect("a valid regex");
    let parts: Vec<String> = match hyphen.captures(set) {
        Some(caps) => vec![format!(">={}", &caps[1]), format!("<={}", &caps[2])],
        None => {
            let mut parts = Vec::new();
            let mut pending_operator = String::new();
            for word in set.split_whitespace() {
                if matches!(word, ">=" | "<=" | ">" | "<" | "=" | "^" | "~") {
                    pending_operator = word.to_string();
                    continue;
                }
                parts.push(format!("{pending_operator}{word}"));
                pending_operator.clear();
            }
            parts
        }
    };
    let converted: Vec<String> = parts
        .iter()
        .map(|part| {
            let part = part.trim_start_matches('v');
            let starts_with_digit = part.chars().next().is_some_and(|c| c.is_ascii_digit());
            // x.y.z, with or without a prerelease (whose own dots do not count): an exact version.
            let core = part.split(['-', '+']).next().unwrap_or(part);
            let full = core.matches('.').count() == 2 && !core.contains(['x', 'X', '*']);
            if starts_with_digit && full {
                format!("={part}")
            } else if starts_with_digit {
                part.replace(['X', 'x'], "*")
            } else {
                part.to_string()
            }
        })
        .collect();
    semver::VersionReq::parse(&converted.join(", ")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        crate::prepare::write_tree(dir.path(), files);
        dir
    }

    #[test]
    fn every_kind_of_workspace_is_found() {
        let pnpm = repo(&[
            (
                "pnpm-workspace.yaml",
                "packages:\n  - 'packages/*'\n  - \"tools/**\"\n  - '!**/test/**'\n",
            ),
            ("package.json", "{\"name\": \"root\", \"private\": true}"),
            (
                "packages/a/package.json",
                "{\"name\": \"@x/a\", \"version\": \"1.0.0\"}",
            ),
            (
                "packages/test/package.json",
                "{\"name\": \"@x/test\", \"version\": \"1.0.0\"}",
            ),
            ("tools/deep/b/package.json", "{\"name\": \"@x/b\"}"),
        ]);
        let ws = Workspace::at(pnpm.path(), Path::new("")).unwrap().unwrap();
        assert_eq!(ws.manager, Manager::Pnpm);
        let names: Vec<&str> = ws.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["@x/a", "@x/b"]);
        for declaration in ["[\"packages/*\"]", "{\"packages\": [\"packages/*\"], \"nohoist\": []}"] {
            let npm = repo(&[
                (
                    "package.json",
                    &format!("{{\"name\": \"root\", \"workspaces\": {declaration}}}"),
                ),
                (
                    "packages/a/package.json",
                    "{\"name\": \"@x/a\", \"version\": \"2.0.0\"}",
                ),
            ]);
            let ws = Workspace::containing(npm.path(), Path::new("packages/a"))
                .unwrap()
                .unwrap();
            assert_eq!(
                (ws.manager, ws.members.len()),
                (Manager::PackageJson, 1),
                "{declaration}"
            );
            assert_eq!(ws.member("@x/a").unwrap().version.as_deref(), Some("2.0.0"));
        }
        let none = repo(&[("package.json", "{\"name\": \"solo\"}")]);
        assert!(Workspace::containing(none.path(), Path::new("")).unwrap().is_none());
        let broken = repo(&[("pnpm-workspace.yaml", "packages: 'oops'\n")]);
        assert!(
            Workspace::at(broken.path(), Path::new(""))
                .unwrap_err()
                .to_string()
                .contains("a list of globs")
        );
    }

    #[test]
    fn workspace_ranges_become_what_pnpm_publishes() {
        let dir = repo(&[
            ("pnpm-workspace.yaml", "packages: ['packages/*']\n"),
            (
                "packages/shared/package.json",
                "{\"name\": \"@t/shared\", \"version\": \"0.0.0\"}",
            ),
            (
                "packages/api/package.json",
                "{\"name\": \"@t/api\", \"version\": \"0.3.0\"}",
            ),
            (
                "packages/cli/package.json",
                r#"{"name": "@t/cli", "version": "0.0.0",
                "dependencies": {"@t/shared": "workspace:^", "@t/api": "workspace:*", "sh2": "workspace:@t/shared@~",
                                 "apirange": "workspace:@t/api@^0.1.0", "left-pad": "^1.3.0", "rel": "workspace:../api"},
                "devDependencies": {"@t/api": "workspace:~"},
                "optionalDependencies": {"@t/shared": "workspace:^0.1.0"},
                "peerDependencies": {"@t/api": "workspace:>=", "@t/shared": "workspace:^0.0.1 || ^0.1.0"}}"#,
            ),
        ]);
        let ws = Workspace::at(dir.path(), Path::new("")).unwrap().unwrap();
        // @t/shared is released now (0.1.0); @t/api is not (its package.json says 0.3.0).
        let version_of = |m: &Member| match m.name.as_str() {
            "@t/shared" => Some("0.1.0".to_string()),
            _ => m.version.clone(),
        };
        let deps = published_dependencies(dir.path(), Path::new("packages/cli"), Some(&ws), &version_of).unwrap();
        let got: Vec<(String, String, Option<String>)> = deps
            .iter()
            .map(|d| {
                (
                    format!("{}.{}", d.table, d.name),
                    d.published.clone(),
                    d.sibling.clone(),
                )
            })
            .collect();
        let want = [
            ("dependencies.@t/api", "0.3.0", Some("@t/api")),
            ("dependencies.@t/shared", "^0.1.0", Some("@t/shared")),
            ("dependencies.apirange", "npm:@t/api@^0.1.0", Some("@t/api")),
            ("dependencies.left-pad", "^1.3.0", None),
            ("dependencies.rel", "npm:@t/api@0.3.0", Some("@t/api")),
            ("dependencies.sh2", "npm:@t/shared@~0.1.0", Some("@t/shared")),
            ("devDependencies.@t/api", "~0.3.0", Some("@t/api")),
            ("optionalDependencies.@t/shared", "^0.1.0", Some("@t/shared")),
            ("peerDependencies.@t/api", ">=0.3.0", Some("@t/api")),
            ("peerDependencies.@t/shared", "^0.0.1 || ^0.1.0", Some("@t/shared")),
        ];
        let want: Vec<(String, String, Option<String>)> = want
            .iter()
            .map(|(k, v, s)| (k.to_string(), v.to_string(), s.map(str::to_string)))
            .collect();
        assert_eq!(got, want);
        // A sibling that does not exist is named.
        std::fs::write(
            dir.path().join("packages/cli/package.json"),
            r#"{"name": "@t/cli", "dependencies": {"@t/gone": "workspace:*"}}"#,
        )
        .unwrap();
        let err = published_dependencies(dir.path(), Path::new("packages/cli"), Some(&ws), &version_of)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("dependencies.@t/gone is \"workspace:*\": no package of the workspace is named \"@t/gone\""),
            "{err}"
        );
    }

    #[test]
    fn dependencies_come_first() {
        let packages = vec![
            ("cli".to_string(), vec!["api".to_string(), "shared".to_string()]),
            ("api".to_string(), vec!["shared".to_string()]),
            (
                "orchestrator".to_string(),
                vec!["shared".to_string(), "workers".to_string()],
            ),
            ("shared".to_string(), vec![]),
            (
                "workers".to_string(),
                vec!["shared".to_string(), "cli".to_string(), "workers".to_string()],
            ),
        ];
        assert_eq!(
            dependency_order(&packages),
            ["shared", "api", "cli", "workers", "orchestrator"]
        );
    }

    #[test]
    fn ranges_as_npm_reads_them() {
        let v = |s: &str| semver::Version::parse(s).unwrap();
        for (range, version, expected) in [
            ("0.1.0", "0.1.0", true),
            ("0.1.0", "0.1.1", false),
            ("^0.1.0", "0.1.5", true),
            ("^0.1.0", "0.2.0", false),
            ("~1.2.0", "1.2.9", true),
            (">=0.1.0", "0.1.0-alpha", false),
            ("^0.1.0-alpha", "0.1.0-alpha", true),
            ("^0.1.0-alpha", "0.1.0", true),
            ("0.1.0-alpha", "0.1.0-alpha", true),
            ("1.0.1-beta.0", "1.0.1", false),
            ("1.0.1-beta.0", "1.0.1-beta.1", false),
            ("1.x", "1.9.0", true),
            ("1.2.x", "1.3.0", false),
            (">=1.0.0 <2.0.0", "1.5.0", true),
            ("^0.0.1 || ^0.1.0", "0.1.3", true),
            ("1.0.0 - 1.2.0", "1.2.0", true),
            ("*", "3.0.0", true),
        ] {
            assert_eq!(satisfies(range, &v(version)), Some(expected), "{range} {version}");
        }
        assert_eq!(satisfies("latest", &v("1.0.0")), None);
    }
}
