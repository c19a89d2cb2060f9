//! Why this exists: a run of independent mode releases several packages, each a release of its
//! own; its outputs and job summary must show every one (a row per package, a `releases` list)
//! instead of pretending the first package was the whole run.

use super::{RunReport, fit, nested_headings, table_cell};
use crate::pipeline::Command;

impl RunReport {
    /// This release as one entry of the `releases` output.
    pub fn release_json(&self) -> serde_json::Value {
        let plan = &self.plan;
        let mut entry = serde_json::json!({
            "package": plan.package,
            "version": plan.version,
            "tag": plan.tag,
            "previous-version": plan.previous_version,
            "prerelease": plan.prerelease,
            "released": self.released(),
            "release-url": self.release.as_ref().and_then(|r| r.url.clone()),
        });
        if let Some(rollback) = &self.rollback {
            entry["rolled-back-to"] = serde_json::json!(rollback.to);
        }
        entry
    }

    /// The outputs of a run of several packages: the single-release outputs are empty, the
    /// collections hold every package's.
    pub(super) fn packages_outputs(&self) -> Vec<(&'static str, String)> {
        let mut assets = serde_json::Map::new();
        let mut npm = serde_json::Map::new();
        for package in &self.packages {
            // Each release has its own SHA256SUMS and journal: asset names are per tag.
            for asset in package.release.iter().flat_map(|r| &r.assets) {
                assets.insert(
                    format!("{}/{}", package.plan.tag, asset.name),
                    serde_json::json!({"url": asset.url, "size": asset.size, "sha256": asset.sha256}),
                );
            }
            for (name, (version, tag)) in &package.npm_packages {
                npm.insert(name.clone(), serde_json::json!({"version": version, "dist-tag": tag}));
            }
        }
        let releases: Vec<serde_json::Value> = self.packages.iter().map(RunReport::release_json).collect();
        let joined = |f: &dyn Fn(&RunReport) -> Option<String>| {
            self.packages.iter().filter_map(f).collect::<Vec<_>>().join(", ")
        };
        crate::action::spec::OUTPUTS
            .iter()
            .map(|o| {
                let value = match o.name {
                    "released" => self.packages.iter().any(RunReport::released).to_string(),
                    "prerelease" => self.packages.iter().any(|p| p.plan.prerelease).to_string(),
                    "assets" => serde_json::Value::Object(assets.clone()).to_string(),
                    "npm-packages" => serde_json::Value::Object(npm.clone()).to_string(),
                    "images" => "{}".to_string(),
                    "releases" => serde_json::Value::Array(releases.clone()).to_string(),
                    "rolled-back-from" => joined(&|p| p.rollback.as_ref().map(|r| p.plan.tag_of(&r.from))),
                    "rolled-back-to" => joined(&|p| {
                        let to = p.rollback.as_ref()?.to.as_ref()?;
                        Some(p.plan.tag_of(to))
                    }),
                    _ => String::new(),
                };
                (o.name, value)
            })
            .collect()
    }

    /// The job summary of a run of several packages: a row per package, then each one's notes.
    pub(super) fn packages_summary(&self) -> String {
        // The packages' own outcomes: one for the title when they agree, else a column each.
        let outcomes: Vec<&str> = self.packages.iter().map(RunReport::outcome).collect();
        let what = match outcomes.iter().all(|o| *o == outcomes[0]) {
            true => outcomes[0],
            false => "see each package",
        };
        let mut out = format!(
            "## tamma-release: {} package{} ({what})\n\n",
            self.packages.len(),
            if self.packages.len() == 1 { "" } else { "s" }
        );
        let rollback = self.command == Command::Rollback;
        out.push_str(match rollback {
            true => "| Package | Rolled back | Back to | Release |\n|---|---|---|---|\n",
            false => "| Package | Version | Previous | Why | Release | Outcome |\n|---|---|---|---|---|---|\n",
        });
        for package in &self.packages {
            let plan = &package.plan;
            let name = plan.package.as_deref().unwrap_or(plan.tag.as_str());
            let link = package
                .release
                .as_ref()
                .and_then(|r| r.url.as_deref())
                .map(|u| format!("[{}]({u})", plan.tag))
                .unwrap_or_else(|| format!("`{}`", plan.tag));
            if rollback {
                let to = package.rollback.as_ref().and_then(|r| r.to.as_deref()).unwrap_or("—");
                out.push_str(&format!("| `{name}` | `{}` | {to} | {link} |\n", plan.version));
                continue;
            }
            let previous = plan.previous_version.as_deref().unwrap_or("first release");
            let why = match plan.follows.as_slice() {
                [] => "its own commits".to_string(),
                follows => format!(
                    "follows {}",
                    follows.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
                ),
            };
            out.push_str(&format!(
                "| `{name}` | `{}` | {previous} | {} | {link} | {} |\n",
                plan.version,
                table_cell(&why),
                package.outcome()
            ));
        }
        if let Some(validation) = &self.validation {
            let failed = validation.gates.iter().filter(|g| !g.findings.is_empty()).count();
            out.push_str(&format!(
                "\n{} validation gate(s) ran once for the whole run; {failed} failed.\n",
                validation.gates.len()
            ));
        }
        let mut notes = String::new();
        for package in &self.packages {
            notes.push_str(&format!(
                "### {}\n\n{}\n\n",
                package.plan.tag,
                nested_headings(&package.plan.notes).trim_end()
            ));
        }
        fit(
            crate::redact::urls(&out),
            "\n<details open><summary>Release notes</summary>\n\n",
            &notes,
            "\n</details>\n",
        )
    }
}

impl crate::plan::ReleasePlan {
    /// The tag of `version` in this plan's line (its tag with the version swapped).
    pub fn tag_of(&self, version: &str) -> String {
        match self.tag.strip_suffix(self.version.as_str()) {
            Some(prefix) => format!("{prefix}{version}"),
            None => version.to_string(),
        }
    }
}
