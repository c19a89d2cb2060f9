//! Why this exists: `history` and `status` answer a maintainer's question — what is live where,
//! what was rolled back, and did anything move by hand — in the job summary and the terminal, so
//! the answer is rendered once, as Markdown, from the [`History`] the library read.

use super::{fit_with, table_cell};
use crate::history::{History, ReleaseState};
use crate::txn::pointer::short;

impl History {
    /// The Markdown of `history` (and of `status`): releases, then every pointer and its drift.
    pub fn markdown(&self) -> String {
        let drifted = self.drifted();
        let mut out = format!("## tamma-release history of {}\n\n", self.repository);
        out.push_str(&match drifted.len() {
            0 => "Every channel points where the last release or rollback left it.\n".to_string(),
            n => format!(
                "**{n} pointer{} moved outside a release** (drift): {}.\n",
                if n == 1 { "" } else { "s" },
                drifted
                    .iter()
                    .map(|p| format!("`{}`", p.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
        if !self.pointers.is_empty() {
            out.push_str(
                "\n### Channels now\n\n| Pointer | Now | Left there by the releases | By | |\n|---|---|---|---|---|\n",
            );
            for pointer in &self.pointers {
                out.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} |\n",
                    table_cell(&pointer.name),
                    value(pointer.now.as_deref()),
                    value(pointer.expected.as_deref()),
                    pointer.set_by,
                    if pointer.drift { "**drift**" } else { "ok" }
                ));
            }
        }
        out.push_str("\n### Releases, newest first\n\n| Release | Channel | State | Date | Run | Moved |\n|---|---|---|---|---|---|\n");
        let mut rows = String::new();
        for release in &self.releases {
            let state = match release.state {
                ReleaseState::Published => "published",
                ReleaseState::Draft => "draft",
                ReleaseState::RolledBack => "**rolled back**",
            };
            let moved = match (&release.journal_problem, release.moved.is_empty()) {
                (Some(problem), _) => format!("journal not used: {problem}"),
                (None, true) => "—".to_string(),
                (None, false) => release
                    .moved
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            rows.push_str(&format!(
                "| [{}]({}) | {} | {state} | {} | {} | {} |\n",
                release.tag,
                release.url,
                release.channel,
                release.date.as_deref().unwrap_or("—"),
                release
                    .run
                    .as_deref()
                    .map(|r| format!("[run]({r})"))
                    .unwrap_or_else(|| "—".into()),
                table_cell(&moved)
            ));
        }
        const CUT: &str = "\n\n> **Cut here:** GitHub shows at most 1 MiB of summary; `tamma-release history --json` lists every release.\n";
        fit_with(crate::redact::urls(&out), "", &crate::redact::urls(&rows), "", CUT)
    }
}

fn value(value: Option<&str>) -> String {
    match value {
        Some(v) => format!("`{}`", short(Some(v))),
        None => "none".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::history::{History, ReleaseRecord, ReleaseState};
    use crate::report::SUMMARY_LIMIT;

    #[test]
    fn a_long_history_is_cut_to_what_github_shows_and_says_where_the_rest_is() {
        let release = |n: usize| ReleaseRecord {
            tag: format!("v1.0.{n}"),
            version: format!("1.0.{n}"),
            channel: "stable".into(),
            state: ReleaseState::Published,
            date: Some("2026-12-01T00:00:00Z".into()),
            url: format!("https://github.com/acme/widget/releases/tag/v1.0.{n}"),
            run: None,
            moved: vec!["@acme/widget@latest".into(); 20],
            journal_problem: None,
        };
        let history = History {
            repository: "acme/widget".into(),
            releases: (0..5_000).map(release).collect(),
            pointers: Vec::new(),
        };
        let markdown = history.markdown();
        assert!(markdown.len() <= SUMMARY_LIMIT, "{}", markdown.len());
        assert!(markdown.ends_with("`tamma-release history --json` lists every release.\n"));
    }
}
