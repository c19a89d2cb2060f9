//! Why this exists: documentation that lies is worse than none. Before a release: the required
//! files exist, the changelog mentions the new version, and every relative link in the Markdown
//! resolves to a file in the repository.

use std::path::Path;

use pulldown_cmark::{Event, Parser, Tag};

use crate::config::DocsGate;
use crate::error::{Error, FileLocation, Result};
use crate::validate::Finding;

/// Runs the docs checks; `changelog` is the file that must mention `version`.
pub fn check(
    workspace: &Path,
    gate: &DocsGate,
    changelog: Option<&str>,
    version: &str,
    prepared: &std::collections::BTreeMap<std::path::PathBuf, String>,
    findings: &mut Vec<Finding>,
) -> Result<usize> {
    for required in &gate.required {
        crate::build::files::check_relative("[validate.docs] required", required)?;
        if !workspace.join(required).exists() && !prepared.contains_key(Path::new(required)) {
            findings.push(Finding {
                message: format!("{required} is required but missing"),
                location: None,
            });
        }
    }
    if let Some(changelog) = changelog {
        let text = match prepared.get(Path::new(changelog)) {
            Some(text) => Ok(text.clone()),
            None => std::fs::read_to_string(workspace.join(changelog)),
        };
        match text {
            Ok(text) if text.contains(version) => {}
            Ok(_) => findings.push(Finding {
                message: format!("{changelog} does not mention {version}"),
                location: None,
            }),
            Err(_) => findings.push(Finding {
                message: format!("{changelog} is missing, so it cannot mention {version}"),
                location: None,
            }),
        }
    }
    let globs: Vec<String> = if gate.links.is_empty() {
        gate.required
            .iter()
            .filter(|r| r.ends_with(".md") && workspace.join(r).exists())
            .cloned()
            .collect()
    } else {
        gate.links.clone()
    };
    if globs.is_empty() {
        return Ok(0);
    }
    let files = crate::build::files::resolve(workspace, "[validate.docs] links", &globs)?;
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file.path).map_err(|source| Error::ReadFile {
            path: file.path.clone(),
            source,
        })?;
        let dir = Path::new(&file.relative).parent().unwrap_or(Path::new(""));
        for (event, range) in Parser::new(&text).into_offset_iter() {
            let target = match event {
                Event::Start(Tag::Link { dest_url, .. }) | Event::Start(Tag::Image { dest_url, .. }) => {
                    dest_url.to_string()
                }
                _ => continue,
            };
            if target.is_empty() || target.starts_with('#') || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let path = target.split(['#', '?']).next().unwrap_or_default();
            let resolved = if let Some(absolute) = path.strip_prefix('/') {
                workspace.join(absolute)
            } else {
                workspace.join(dir).join(path)
            };
            if !resolved.exists() {
                findings.push(Finding {
                    message: format!("{}: the link {target:?} leads nowhere", file.relative),
                    location: Some(FileLocation::at(&text, range.start, Path::new(&file.relative))),
                });
            }
        }
    }
    Ok(checked)
}
