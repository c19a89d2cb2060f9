//! Why this exists: the first hour. `tamma-release init` looks at the repository — package.json,
//! pnpm-workspace.yaml, Cargo.toml, a Dockerfile, book.toml, a docs folder — and writes a
//! commented `.github/tamma-release.toml` and the release and rollback workflows that work for
//! what it found, with the least permissions, as `goreleaser init` and `dist init` do. This module
//! returns the files; the edge writes them (or prints them for `--dry-run`).

mod workflows;

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::workspaces::{Manager, Workspace};

/// One file `init` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitFile {
    /// Relative to the repository root.
    pub path: PathBuf,
    /// Its content.
    pub text: String,
}

/// What `init` found in the repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Project {
    /// npm packages to publish: (folder, name); private packages are left out.
    pub npm: Vec<(String, String)>,
    /// Which tool runs the JavaScript workspace, if any.
    pub node: Option<Node>,
    /// The Cargo package's binary name, when it builds one.
    pub rust_binary: Option<String>,
    /// Cargo.lock is committed (so builds can be `--locked`).
    pub cargo_lock: bool,
    /// A Dockerfile at the root.
    pub dockerfile: bool,
    /// The image name: `ghcr.io/<owner>/<repo>` from the origin remote, else a placeholder.
    pub image: String,
    /// An mdBook: (its folder, the folder it builds into).
    pub book: Option<(String, String)>,
    /// A static docs folder (no book.toml).
    pub docs: Option<String>,
}

/// The JavaScript package manager of the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// npm (package-lock.json or none).
    Npm,
    /// pnpm (pnpm-workspace.yaml or pnpm-lock.yaml).
    Pnpm,
}

impl Project {
    /// Whether the release runs as the CLI on the runner (it builds with cargo or the Docker
    /// daemon) rather than as the container action (which holds nothing but tamma-release).
    pub fn runs_cli(&self) -> bool {
        self.rust_binary.is_some() || self.dockerfile
    }
}

/// Looks at the repository at `workspace`.
pub fn detect(workspace: &Path) -> Result<Project> {
    let mut project = Project {
        image: image_name(workspace),
        ..Project::default()
    };
    let pnpm = workspace.join("pnpm-workspace.yaml").is_file() || workspace.join("pnpm-lock.yaml").is_file();
    if workspace.join("package.json").is_file() {
        project.node = Some(if pnpm { Node::Pnpm } else { Node::Npm });
        match Workspace::at(workspace, Path::new(""))? {
            Some(found) => {
                for member in found.members.iter().filter(|m| !m.name.is_empty()) {
                    if !private(&workspace.join(&member.dir)) {
                        project.npm.push((slashed(&member.dir), member.name.clone()));
                    }
                }
                if found.manager == Manager::Pnpm {
                    project.node = Some(Node::Pnpm);
                }
            }
            None if !private(workspace) => {
                if let Ok(name) = crate::build::npm_pack::package_name(workspace) {
                    project.npm.push((".".to_string(), name));
                }
            }
            None => {}
        }
    }
    project.rust_binary = rust_binary(workspace);
    project.cargo_lock = workspace.join("Cargo.lock").is_file();
    project.dockerfile = workspace.join("Dockerfile").is_file();
    project.book = find_book(workspace);
    if project.book.is_none() && workspace.join("docs/index.html").is_file() {
        project.docs = Some("docs".to_string());
    }
    Ok(project)
}

/// The files for `project`.
pub fn files(project: &Project) -> Vec<InitFile> {
    vec![
        InitFile {
            path: PathBuf::from(crate::config::DEFAULT_CONFIG_PATH),
            text: config_text(project),
        },
        InitFile {
            path: PathBuf::from(".github/workflows/release.yml"),
            text: workflows::release(project),
        },
        InitFile {
            path: PathBuf::from(".github/workflows/rollback.yml"),
            text: workflows::rollback(project),
        },
    ]
}

fn slashed(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    if text.is_empty() { ".".into() } else { text }
}

fn private(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|m| m["private"] == serde_json::Value::Bool(true))
}

/// The binary a Cargo package builds: its `[[bin]]` name, or the package name with src/main.rs.
fn rust_binary(workspace: &Path) -> Option<String> {
    let text = std::fs::read_to_string(workspace.join("Cargo.toml")).ok()?;
    let manifest: toml::Value = toml::from_str(&text).ok()?;
    if let Some(bin) = manifest.get("bin").and_then(|b| b.as_array()).and_then(|b| b.first()) {
        return bin.get("name").and_then(|n| n.as_str()).map(str::to_string);
    }
    let name = manifest.get("package")?.get("name")?.as_str()?;
    workspace.join("src/main.rs").is_file().then(|| name.to_string())
}

/// An mdBook at the root or in docs/: (its folder, its build folder).
fn find_book(workspace: &Path) -> Option<(String, String)> {
    for dir in [".", "docs", "book"] {
        let Ok(text) = std::fs::read_to_string(workspace.join(dir).join("book.toml")) else {
            continue;
        };
        let build_dir = toml::from_str::<toml::Value>(&text)
            .ok()
            .and_then(|v| v.get("build")?.get("build-dir")?.as_str().map(str::to_string))
            .unwrap_or_else(|| "book".to_string());
        let out = if dir == "." {
            build_dir
        } else {
            format!("{dir}/{build_dir}")
        };
        return Some((dir.to_string(), out));
    }
    None
}

/// `ghcr.io/<owner>/<repo>`, lower-case, from the origin remote.
fn image_name(workspace: &Path) -> String {
    crate::plan::git::GitRepo::discover(workspace)
        .ok()
        .and_then(|repo| repo.origin_web_url())
        .and_then(|url| url.strip_prefix("https://github.com/").map(str::to_string))
        .map(|path| format!("ghcr.io/{}", path.to_ascii_lowercase()))
        .unwrap_or_else(|| "ghcr.io/OWNER/NAME".to_string())
}

/// The commented config for `project`.
fn config_text(project: &Project) -> String {
    let mut out = String::from(
        "# tamma-release configuration, written by `tamma-release init`.\n\
         # Reference: https://github.com/meywd/tamma-release#configuration\n\
         #:schema https://raw.githubusercontent.com/meywd/tamma-release/main/schema/tamma-release.schema.json\n\n\
         [release]\n\
         tag-prefix = \"v\"          # tags are v1.2.3; the pushed tag is the version\n\
         # draft = true            # leave each release as a draft to publish by hand\n\n",
    );
    let mut version_files: Vec<String> = Vec::new();
    if project.rust_binary.is_some() {
        version_files.push("Cargo.toml".into());
    }
    for (dir, _) in &project.npm {
        version_files.push(if dir == "." {
            "package.json".into()
        } else {
            format!("{dir}/package.json")
        });
    }
    if !version_files.is_empty() {
        out.push_str("[version]\n# The version is written into these files before anything is built.\n");
        out.push_str(&format!("files = [{}]\n", quoted(&version_files)));
        out.push_str("changelog = \"CHANGELOG.md\"   # each release's section is prepended here\n\n");
    }
    if let Some(binary) = &project.rust_binary {
        let locked = if project.cargo_lock { ", \"--locked\"" } else { "" };
        out.push_str(&format!(
            "# The binary, built by cargo on the runner (the workflow runs tamma-release as a CLI there).\n\
             [[artifact]]\n\
             name = \"{binary}-x86_64-unknown-linux-gnu.tar.gz\"\n\
             kind = \"archive\"\n\
             files = [\"target/release/{binary}\", \"README.md\"]\n\
             strip-prefix = \"target/release/\"\n\
             build = [\"cargo\", \"build\", \"--release\"{locked}]\n\n"
        ));
    }
    for (dir, name) in &project.npm {
        out.push_str(&format!(
            "# {name}: published to npm; workspace: ranges are rewritten as pnpm publish does.\n\
             [[artifact]]\nkind = \"npm\"\npath = \"{dir}\"\n\n"
        ));
    }
    if project.dockerfile {
        out.push_str(&format!(
            "# The image, built from the Dockerfile by the Docker daemon; tags {{version}} and latest.\n\
             [[artifact]]\nkind = \"image\"\nimage = \"{}\"\ncontext = \".\"\n\n",
            project.image
        ));
    }
    if let Some((_, built)) = &project.book {
        out.push_str(&format!(
            "# The book, built by the workflow (mdbook build) and published to GitHub Pages.\n\
             [deploy.docs]\npath = \"{built}\"\nbranch = \"gh-pages\"\n\n"
        ));
    } else if let Some(docs) = &project.docs {
        out.push_str(&format!(
            "# The docs folder, published to GitHub Pages.\n[deploy.docs]\npath = \"{docs}\"\nbranch = \"gh-pages\"\n\n"
        ));
    }
    out.trim_end().to_string() + "\n"
}

fn quoted(items: &[String]) -> String {
    items.iter().map(|i| format!("{i:?}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_repository_gets_a_config_that_loads() {
        let dir = tempfile::tempdir().unwrap();
        let project = detect(dir.path()).unwrap();
        assert_eq!(project.npm, Vec::<(String, String)>::new());
        for file in files(&project) {
            if file.path.extension().is_some_and(|e| e == "toml") {
                crate::config::Config::parse(&file.text, &file.path).unwrap();
            }
        }
    }
}
