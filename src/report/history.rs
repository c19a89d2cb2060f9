//! Why this exists: `history` and `status` answer a maintainer's question — what is live where,
//! what was rolled back, and did anything move by hand — in the job summary and the terminal, so
//! the answer is rendered once, as Markdown, from the [`History`] the library read.

use super::{fit, table_cell};
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
        fit(crate::redact::urls(&out), "", &crate::redact::urls(&rows), "")
    }
}

fn value(value: Option<&str>) -> String {
    match value {
        Some(v) => format!("`{}`", short(Some(v))),
        None => "none".to_string(),
    }
}
