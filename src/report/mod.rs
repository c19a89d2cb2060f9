//! Why this exists: what a run did is reported three ways — action outputs, a Markdown job summary
//! and `--json` — and all three must say the same thing, so all three are derived from one
//! [`RunReport`] here.

use serde::Serialize;

mod history;
mod notification;
mod packages;

pub use notification::Notification;

use crate::pipeline::Command;
use crate::plan::ReleasePlan;
use crate::targets::StepRecord;
use crate::targets::github::HostedRelease;

/// GitHub refuses a step summary over this many bytes (the runner's `AttachmentSizeLimit`).
pub const SUMMARY_LIMIT: usize = 1024 * 1024;

/// What a `release` or `plan` run did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunReport {
    /// The command that ran.
    pub command: Command,
    /// Whether this was a dry run (nothing written anywhere).
    pub dry_run: bool,
    /// The plan.
    pub plan: ReleasePlan,
    /// The GitHub release, once the publish stage ran.
    pub release: Option<HostedRelease>,
    /// What the build stage produced.
    pub build: Option<crate::build::manifest::BuildManifest>,
    /// Every step taken (or, in a dry run, that would be taken).
    pub steps: Vec<StepRecord>,
    /// The validation gates' outcome.
    pub validation: Option<crate::validate::Validation>,
    /// Every pointer moved, with its old value.
    pub pointers: Vec<crate::targets::PointerMove>,
    /// npm packages released: name → (version, dist-tag).
    pub npm_packages: std::collections::BTreeMap<String, (String, String)>,
    /// What a rollback did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackSummary>,
    /// The files the prepare stage changed, relative to the repository root.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prepared: Vec<std::path::PathBuf>,
    /// The workflow attests the downloads and images (`[release] attestations`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub attested: bool,
    /// Independent mode: each package's release, in dependency order (the fields above then
    /// describe the run as a whole, and `plan` is the first package's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<RunReport>,
}

/// The outcome of `rollback`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RollbackSummary {
    /// The version rolled back.
    pub from: String,
    /// The version its channel is back on, when there is one.
    pub to: Option<String>,
    /// Whether anything changed (false: it was rolled back already).
    pub changed: bool,
}

impl RunReport {
    /// The report of a run that has planned and done nothing else yet.
    pub fn new(command: Command, dry_run: bool, plan: ReleasePlan, attested: bool) -> RunReport {
        RunReport {
            command,
            dry_run,
            plan,
            release: None,
            build: None,
            steps: Vec::new(),
            pointers: Vec::new(),
            validation: None,
            npm_packages: Default::default(),
            rollback: None,
            prepared: Vec::new(),
            attested,
            packages: Vec::new(),
        }
    }

    /// The report as it may be shown: URLs in steps and pointer names without credentials or
    /// queries (see [`crate::redact`]); the notes are left as the release has them.
    pub fn redacted(&self) -> RunReport {
        let mut shown = self.clone();
        for step in &mut shown.steps {
            step.action = crate::redact::urls(&step.action);
        }
        for moved in &mut shown.pointers {
            moved.pointer = crate::redact::urls(&moved.pointer);
        }
        shown
    }

    /// Whether this run published the release: a real `release` whose GitHub release is published.
    pub fn released(&self) -> bool {
        self.command == Command::Release
            && !self.dry_run
            && self.release.as_ref().is_some_and(|r| !r.draft && r.id.is_some())
    }

    /// The action outputs when there was nothing to release: `released` false, the rest empty.
    pub fn nothing_released_outputs() -> Vec<(&'static str, String)> {
        crate::action::spec::OUTPUTS
            .iter()
            .map(|o| {
                let value = match o.name {
                    "released" | "prerelease" => "false",
                    "assets" | "npm-packages" | "images" => "{}",
                    "releases" => "[]",
                    _ => "",
                };
                (o.name, value.to_string())
            })
            .collect()
    }

    /// The action outputs, in the order action.yml declares them.
    pub fn outputs(&self) -> Vec<(&'static str, String)> {
        if self.packages.len() > 1 {
            return self.packages_outputs();
        }
        if let [only] = self.packages.as_slice() {
            return only.outputs();
        }
        let plan = &self.plan;
        let release = self.release.as_ref();
        vec![
            ("released", self.released().to_string()),
            ("version", plan.version.clone()),
            ("tag", plan.tag.clone()),
            ("previous-version", plan.previous_version.clone().unwrap_or_default()),
            ("prerelease", plan.prerelease.to_string()),
            ("release-url", release.and_then(|r| r.url.clone()).unwrap_or_default()),
            (
                "release-id",
                release.and_then(|r| r.id).map(|id| id.to_string()).unwrap_or_default(),
            ),
            (
                "upload-url",
                release.and_then(|r| r.upload_url.clone()).unwrap_or_default(),
            ),
            ("assets", self.assets_json()),
            ("npm-packages", self.npm_json()),
            (
                "releases",
                serde_json::Value::Array(vec![self.release_json()]).to_string(),
            ),
            ("images", self.images_json()),
            ("changelog", plan.changelog.clone()),
            (
                "rolled-back-from",
                self.rollback.as_ref().map(|r| r.from.clone()).unwrap_or_default(),
            ),
            (
                "rolled-back-to",
                self.rollback.as_ref().and_then(|r| r.to.clone()).unwrap_or_default(),
            ),
        ]
    }

    /// `{name: {url, size, sha256}}` for the verified assets.
    pub fn assets_json(&self) -> String {
        let mut map = serde_json::Map::new();
        for asset in self.release.iter().flat_map(|r| &r.assets) {
            map.insert(
                asset.name.clone(),
                serde_json::json!({"url": asset.url, "size": asset.size, "sha256": asset.sha256}),
            );
        }
        serde_json::Value::Object(map).to_string()
    }

    /// `{name: {version, dist-tag}}`.
    pub fn npm_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .npm_packages
            .iter()
            .map(|(name, (version, tag))| (name.clone(), serde_json::json!({"version": version, "dist-tag": tag})))
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    /// `{"repo:version": digest}` for the images pushed; before anything is pushed (a dry run, a
    /// build-only run) the images built, with the digest when the build knows it.
    pub fn images_json(&self) -> String {
        let mut map: serde_json::Map<String, serde_json::Value> = self
            .pointers
            .iter()
            .filter(|p| p.target == "image")
            .map(|p| {
                let repository = p.pointer.rsplit_once(':').map_or(p.pointer.as_str(), |(r, _)| r);
                (
                    format!("{repository}:{}", self.plan.version),
                    serde_json::Value::String(p.new.clone()),
                )
            })
            .collect();
        if map.is_empty()
            && let Some(build) = &self.build
        {
            for image in build.artifacts.iter().filter(|a| a.kind == "image") {
                let digest = match image.sha256.as_str() {
                    "" => String::new(),
                    hex => format!("sha256:{hex}"),
                };
                map.insert(image.name.clone(), serde_json::Value::String(digest));
            }
        }
        serde_json::Value::Object(map).to_string()
    }

    /// `gh attestation verify` for each published download (the files `SHA256SUMS` lists, which
    /// the provenance recipe attests) and each pushed image, when the workflow attests them.
    fn provenance_checks(&self) -> String {
        if !self.attested || self.dry_run {
            return String::new();
        }
        let published = self.release.as_ref().map(|r| r.assets.as_slice()).unwrap_or_default();
        let listed: Vec<&str> = match &self.build {
            Some(build) => build
                .artifacts
                .iter()
                .filter(|a| matches!(a.kind.as_str(), "archive" | "file" | "npm"))
                .map(|a| a.name.as_str())
                .collect(),
            None => Vec::new(),
        };
        let files: Vec<&str> = published
            .iter()
            .map(|a| a.name.as_str())
            .filter(|name| listed.contains(name))
            .collect();
        let images: Vec<(&str, &str)> = self
            .pointers
            .iter()
            .filter(|p| p.target == "image")
            .map(|p| {
                (
                    p.pointer.rsplit_once(':').map_or(p.pointer.as_str(), |(r, _)| r),
                    p.new.as_str(),
                )
            })
            .collect();
        if files.is_empty() && images.is_empty() {
            return String::new();
        }
        let repository = self.plan.repository.as_deref().unwrap_or("OWNER/REPO");
        let mut out = String::from(
            "\n### Verify provenance\n\nEach download and image has a build provenance attestation; \
             anyone can check one with the GitHub CLI:\n\n```sh\n",
        );
        for file in files {
            out.push_str(&format!("gh attestation verify {file} --repo {repository}\n"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (image, digest) in images {
            if seen.insert((image, digest)) {
                out.push_str(&format!(
                    "gh attestation verify oci://{image}@{digest} --repo {repository}\n"
                ));
            }
        }
        out.push_str("```\n");
        out
    }

    /// What the run did, in a few words (the summary's title).
    pub(crate) fn outcome(&self) -> &'static str {
        match (self.command, self.dry_run) {
            (Command::Plan, _) => "plan",
            (Command::Validate, _) => "validation passed",
            (Command::Release, true) => "dry run — nothing was published",
            (Command::Release, false) => match (&self.release, &self.build) {
                (Some(release), _) if release.draft => "left as a draft",
                (Some(_), _) => "released",
                (None, Some(_)) => "build only: dist/ is ready for a publish run",
                (None, None) => "planned: nothing was built or released",
            },
            (Command::Rollback, true) => "rollback dry run — nothing was changed",
            (Command::Rollback, false) => "rolled back",
        }
    }

    /// The Markdown job summary, never over [`SUMMARY_LIMIT`] bytes.
    pub fn summary_markdown(&self) -> String {
        if !self.packages.is_empty() {
            return self.packages_summary();
        }
        let plan = &self.plan;
        let mut head = String::new();
        let what = self.outcome();
        head.push_str(&format!("## tamma-release {} ({what})\n\n", plan.tag));
        head.push_str("| | |\n|---|---|\n");
        head.push_str(&format!("| Version | `{}` |\n", plan.version));
        head.push_str(&format!("| Tag | `{}` |\n", plan.tag));
        let previous = plan
            .previous_tag
            .as_deref()
            .map(|t| format!("`{t}`"))
            .unwrap_or_else(|| "none (first release)".into());
        head.push_str(&format!("| Previous release | {previous} |\n"));
        head.push_str(&format!(
            "| Prerelease | {} |\n",
            if plan.prerelease { "yes" } else { "no" }
        ));
        head.push_str(&format!(
            "| Commit | `{}` |\n",
            &plan.commit[..plan.commit.len().min(12)]
        ));
        if let Some(url) = self.release.as_ref().and_then(|r| r.url.as_deref()) {
            head.push_str(&format!("| Release | {url} |\n"));
        }
        if let Some(validation) = &self.validation {
            head.push_str("\n### Validation\n\n| Gate | Result | Details |\n|---|---|---|\n");
            for gate in &validation.gates {
                let result = if gate.findings.is_empty() {
                    "passed"
                } else {
                    "**failed**"
                };
                let mut details = gate.summary.clone();
                for finding in &gate.findings {
                    details.push_str(&format!("<br>{}", finding.message));
                }
                head.push_str(&format!("| {} | {result} | {} |\n", gate.gate, table_cell(&details)));
            }
        }
        if let Some(rollback) = &self.rollback {
            let to = rollback
                .to
                .as_deref()
                .map(|t| format!("`{t}`"))
                .unwrap_or_else(|| "nothing earlier".into());
            head.push_str(&format!("| Rolled back | `{}` → {to} |\n", rollback.from));
            if !rollback.changed {
                head.push_str("\nEverything was rolled back already: nothing changed.\n");
            }
        }
        if !self.pointers.is_empty() {
            head.push_str("\n### Pointers moved\n\n| Pointer | Before | Now |\n|---|---|---|\n");
            // Commits and digests shortened as git and registries show them; --json has them whole.
            use crate::txn::pointer::short;
            for moved in &self.pointers {
                head.push_str(&format!(
                    "| `{}` | {} | `{}` |\n",
                    moved.pointer,
                    moved
                        .old
                        .as_deref()
                        .map(|o| format!("`{}`", short(Some(o))))
                        .unwrap_or_else(|| "—".into()),
                    short(Some(&moved.new))
                ));
            }
        }
        let images: Vec<_> = self.pointers.iter().filter(|p| p.target == "image").collect();
        if !images.is_empty() {
            head.push_str("\n### Images\n\n| Image | Digest |\n|---|---|\n");
            for moved in images {
                let repository = moved
                    .pointer
                    .rsplit_once(':')
                    .map_or(moved.pointer.as_str(), |(r, _)| r);
                head.push_str(&format!("| `{repository}:{}` | `{}` |\n", plan.version, moved.new));
            }
        }
        // What a release changes; a run that does not publish changes none of it.
        let publishes = self.dry_run || self.release.is_some() || self.command != Command::Release;
        if publishes {
            head.push_str("\n### Targets\n\n");
            for target in &plan.targets {
                head.push_str(&format!("- **{}**: {}\n", target.name, target.description));
            }
        }
        if !self.steps.is_empty() {
            // A long list of steps is folded: the maintainer opens it when they need it.
            let folded = self.steps.len() > STEPS_SHOWN_OPEN;
            if folded {
                head.push_str(&format!(
                    "\n<details><summary>Steps ({})</summary>\n\n| Target | Step |\n|---|---|\n",
                    self.steps.len()
                ));
            } else {
                head.push_str("\n### Steps\n\n| Target | Step |\n|---|---|\n");
            }
            for step in &self.steps {
                let verb = if step.dry_run { "would " } else { "" };
                head.push_str(&format!("| {} | {verb}{} |\n", step.target, table_cell(&step.action)));
            }
            if folded {
                head.push_str("\n</details>\n");
            }
        }
        let published = self.release.as_ref().map(|r| r.assets.as_slice()).unwrap_or_default();
        match &self.build {
            _ if !published.is_empty() => {
                head.push_str("\n### Assets\n\n| Asset | Size | SHA-256 |\n|---|---:|---|\n");
                for asset in published {
                    head.push_str(&format!(
                        "| [{}]({}) | {} | `{}` |\n",
                        table_cell(&asset.name),
                        asset.url,
                        human_size(asset.size),
                        asset.sha256
                    ));
                }
            }
            Some(build) if !self.dry_run && !build.artifacts.is_empty() => {
                head.push_str("\n### Artifacts\n\n| Name | Kind | Size | SHA-256 |\n|---|---|---:|---|\n");
                for artifact in &build.artifacts {
                    head.push_str(&format!(
                        "| {} | {} | {} | `{}` |\n",
                        table_cell(&artifact.name),
                        artifact.kind,
                        human_size(artifact.size),
                        artifact.sha256
                    ));
                }
            }
            _ if !plan.artifacts.is_empty() => {
                head.push_str("\n### Artifacts\n\n| Name | Kind |\n|---|---|\n");
                for artifact in &plan.artifacts {
                    head.push_str(&format!("| {} | {} |\n", table_cell(&artifact.name), artifact.kind));
                }
            }
            _ => {}
        }
        head.push_str(&self.provenance_checks());
        let notes_open = "\n<details open><summary>Release notes</summary>\n\n";
        let notes_close = "\n</details>\n";
        // Steps and targets may name configured URLs; the notes are the release's own text.
        fit(
            crate::redact::urls(&head),
            notes_open,
            &nested_headings(&plan.notes),
            notes_close,
        )
    }
}

/// A summary for a run that failed before producing a report. A validation failure
/// (`validation failed…` followed by `  gate: finding` lines) becomes a table.
pub fn failure_summary(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("validation failed") {
        let mut body = String::from(
            "## tamma-release: validation failed\n\nNothing was staged or published.\n\n| Gate | What failed |\n|---|---|\n",
        );
        for line in rest.lines().skip(1) {
            let (gate, finding) = line.trim().split_once(": ").unwrap_or(("", line.trim()));
            body.push_str(&format!("| {} | {} |\n", table_cell(gate), table_cell(finding)));
        }
        return fit(body, "", "", "");
    }
    let body = format!(
        "## tamma-release failed\n\n```\n{}\n```\n",
        message.replace("```", "'''")
    );
    fit(body, "", "", "")
}

/// `1.5 MiB`, `312 B`.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// How many steps the summary shows before it folds them into a `<details>` block.
const STEPS_SHOWN_OPEN: usize = 12;

/// The notes with every Markdown heading two levels deeper (at most `######`), so that the
/// notes' own `## 1.2.0` sits below the summary's `## tamma-release v1.2.0` and its `###`
/// sections. Code blocks are left as they are.
fn nested_headings(notes: &str) -> String {
    let mut out = String::with_capacity(notes.len() + 64);
    let mut fenced = false;
    for line in notes.split_inclusive('\n') {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        let level = line.bytes().take_while(|b| *b == b'#').count();
        if !fenced && (1..=6).contains(&level) && line[level..].starts_with(' ') {
            out.push_str(&"#".repeat((level + 2).min(6)));
            out.push_str(&line[level..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Joins head + open + notes + close, cutting the notes (then the head) so the whole stays within
/// [`SUMMARY_LIMIT`] and saying so.
fn fit(head: String, open: &str, notes: &str, close: &str) -> String {
    const CUT: &str = "\n\n> **Cut here:** GitHub shows at most 1 MiB of summary; the full notes are on the release and in the `changelog` output.\n";
    fit_with(head, open, notes, close, CUT)
}

/// [`fit`], saying `cut` where it cuts.
fn fit_with(head: String, open: &str, notes: &str, close: &str, cut: &str) -> String {
    let whole = head.len() + open.len() + notes.len() + close.len();
    if whole <= SUMMARY_LIMIT {
        return format!("{head}{open}{notes}{close}");
    }
    let room = SUMMARY_LIMIT.saturating_sub(head.len() + open.len() + close.len() + cut.len());
    let kept = floor_char_boundary(notes, room);
    let mut out = format!("{head}{open}{}{cut}{close}", &notes[..kept]);
    if out.len() > SUMMARY_LIMIT {
        let keep = floor_char_boundary(&out, SUMMARY_LIMIT - cut.len());
        out.truncate(keep);
        out.push_str(cut);
    }
    out
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    if index >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    // Prefer cutting at a line end so Markdown structure stays intact.
    text[..index].rfind('\n').map_or(index, |nl| nl + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(notes: String) -> ReleasePlan {
        ReleasePlan {
            schema_version: 1,
            version: "1.2.3".into(),
            tag: "v1.2.3".into(),
            previous_version: None,
            previous_tag: None,
            prerelease: false,
            commit: "0123456789abcdef0123".into(),
            commit_time: 0,
            repository: None,
            changelog: notes.clone(),
            notes,
            artifacts: vec![],
            targets: vec![],
            metrics: Default::default(),
            package: None,
            workspace_versions: Default::default(),
            released_with: Vec::new(),
            follows: Vec::new(),
        }
    }

    fn report(notes: String) -> RunReport {
        RunReport::new(Command::Release, true, plan(notes), false)
    }

    #[test]
    fn huge_notes_are_cut_to_the_limit_with_a_note() {
        let notes = "- a line of notes with ünïcödé\n".repeat(60_000);
        let summary = report(notes).summary_markdown();
        assert!(summary.len() <= SUMMARY_LIMIT, "{}", summary.len());
        assert!(summary.contains("**Cut here:**"));
        assert!(summary.ends_with("</details>\n"));
    }

    #[test]
    fn small_summary_is_whole() {
        let summary = report("- fix it\n".into()).summary_markdown();
        assert!(summary.contains("## tamma-release v1.2.3 (dry run — nothing was published)"));
        assert!(summary.contains("| Previous release | none (first release) |"));
        assert!(summary.contains("- fix it"));
        assert!(!summary.contains("Cut here"));
    }

    #[test]
    fn outputs_follow_action_yml() {
        let names: Vec<_> = report(String::new()).outputs().into_iter().map(|(n, _)| n).collect();
        let declared: Vec<_> = crate::action::spec::OUTPUTS.iter().map(|o| o.name).collect();
        for name in names {
            assert!(declared.contains(&name), "{name} is not declared in action.yml");
        }
    }
}
