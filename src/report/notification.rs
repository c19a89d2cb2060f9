//! Why this exists: a notification is one more rendering of what a run did, beside the outputs,
//! the summary and `--json`, so it is written here from the same [`RunReport`], and the notify
//! target only delivers it. One message serves every channel: the JSON a webhook receives, the
//! chat line Slack shows (and a mail's subject), and the mail's body made from both.

use crate::error::Error;
use crate::report::RunReport;
use crate::txn::journal::JOURNAL_ASSET;

/// What a notification says.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The JSON message a webhook receives.
    pub message: serde_json::Value,
    /// The chat text: its first line is the mail's subject; the run's and the journal's links
    /// follow on lines of their own.
    pub text: String,
}

impl Notification {
    /// A release's outcome: released, or failed with `failure`.
    pub fn release(
        report: &RunReport,
        run_url: Option<&str>,
        failure: Option<&Error>,
        duration: std::time::Duration,
    ) -> Notification {
        let plan = &report.plan;
        let outcome = if failure.is_some() { "failed" } else { "released" };
        let link = report
            .release
            .as_ref()
            .and_then(|r| r.url.clone())
            .or_else(|| run_url.map(str::to_string))
            .unwrap_or_default();
        // A published release's assets download from …/releases/download/<tag>/<name>, the
        // page's address with `tag` for `download` (on GHES too); a draft's are not public.
        let journal = report
            .release
            .as_ref()
            .filter(|r| !r.draft)
            .and_then(|r| r.url.as_deref())
            .filter(|url| url.contains("/releases/tag/"))
            .map(|url| {
                format!(
                    "{}/{JOURNAL_ASSET}",
                    url.replacen("/releases/tag/", "/releases/download/", 1)
                )
            });
        let channel = semver::Version::parse(&plan.version)
            .map(|v| crate::targets::channel_for(&v))
            .ok();
        let moved: Vec<serde_json::Value> = report
            .pointers
            .iter()
            .map(|m| serde_json::json!({"pointer": crate::redact::urls(&m.pointer), "before": m.old, "after": m.new}))
            .collect();
        let message = serde_json::json!({
            "event": outcome, "version": plan.version, "tag": plan.tag, "channel": channel,
            "repository": plan.repository, "url": link,
            "error": failure.map(|e| crate::redact::urls(&e.to_string())), "duration-seconds": duration.as_secs(),
            "run-url": run_url, "journal-url": journal, "moved": moved,
        });
        let repository = plan.repository.as_deref().unwrap_or_default();
        let text = match failure {
            Some(error) => format!(
                "tamma-release: {repository} {} failed: {}",
                plan.tag,
                crate::redact::urls(&error.to_string())
            ),
            None => format!("tamma-release: {repository} {} released {link}", plan.tag),
        };
        Notification {
            message,
            text: with_links(text, run_url, journal.as_deref()),
        }
    }

    /// A rollback of `tag` (version `from`) that changed something, back to `to` where known.
    #[allow(clippy::too_many_arguments)]
    pub fn rollback(
        repository: Option<&str>,
        tag: &str,
        from: &str,
        to: Option<&str>,
        release_url: &str,
        run_url: Option<&str>,
        journal_url: Option<&str>,
        dry_run: bool,
        duration: std::time::Duration,
    ) -> Notification {
        let message = serde_json::json!({
            "event": "rolled-back", "version": from, "tag": tag, "rolled-back-to": to,
            "repository": repository, "url": release_url, "dry-run": dry_run,
            "duration-seconds": duration.as_secs(),
            "run-url": run_url, "journal-url": journal_url,
        });
        let text = format!(
            "tamma-release: {} {tag} was rolled back{}",
            repository.unwrap_or_default(),
            to.map(|t| format!(" to {t}")).unwrap_or_default()
        );
        Notification {
            message,
            text: with_links(text, run_url, journal_url),
        }
    }

    /// The mail's subject: the chat text's first line.
    pub fn subject(&self) -> &str {
        self.text.lines().next().unwrap_or_default()
    }

    /// The mail's body: the chat text, then each field of the message on a line.
    pub fn mail_body(&self) -> String {
        use std::fmt::Write;
        let mut body = format!("{}\n\n", self.text);
        let Some(fields) = self.message.as_object() else {
            return body;
        };
        for (key, value) in fields {
            let _ = match value {
                serde_json::Value::Null => Ok(()),
                serde_json::Value::String(text) => writeln!(body, "{key}: {text}"),
                serde_json::Value::Array(list) if list.is_empty() => Ok(()),
                serde_json::Value::Array(list) => {
                    let _ = writeln!(body, "{key}:");
                    for item in list {
                        let _ = match (item.get("pointer"), item.get("after")) {
                            (Some(pointer), Some(after)) => writeln!(
                                body,
                                "  {} : {} -> {}",
                                pointer.as_str().unwrap_or_default(),
                                item.get("before").and_then(|b| b.as_str()).unwrap_or("nothing"),
                                after.as_str().unwrap_or_default()
                            ),
                            _ => writeln!(body, "  {item}"),
                        };
                    }
                    Ok(())
                }
                other => writeln!(body, "{key}: {other}"),
            };
        }
        body
    }
}

/// `text` with the run's and the journal's links on lines of their own, where known.
fn with_links(mut text: String, run: Option<&str>, journal: Option<&str>) -> String {
    if let Some(run) = run {
        text.push_str(&format!("\nrun: {run}"));
    }
    if let Some(journal) = journal {
        text.push_str(&format!("\njournal: {journal}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_messages_end_with_the_links_that_are_known() {
        let run = "https://github.com/o/r/actions/runs/7";
        let journal = "https://github.com/o/r/releases/download/v1.0.0/release-journal.json";
        assert_eq!(
            with_links("released".into(), Some(run), Some(journal)),
            format!("released\nrun: {run}\njournal: {journal}")
        );
        assert_eq!(
            with_links("failed".into(), Some(run), None),
            format!("failed\nrun: {run}")
        );
        assert_eq!(with_links("local".into(), None, None), "local");
    }

    #[test]
    fn a_rollback_mail_has_the_chat_line_as_subject_and_every_known_field_in_its_body() {
        let note = Notification::rollback(
            Some("o/r"),
            "v1.1.0",
            "1.1.0",
            Some("v1.0.0"),
            "https://github.com/o/r/releases/tag/v1.1.0",
            Some("https://github.com/o/r/actions/runs/7"),
            None,
            false,
            std::time::Duration::from_secs(3),
        );
        assert_eq!(note.subject(), "tamma-release: o/r v1.1.0 was rolled back to v1.0.0");
        let body = note.mail_body();
        assert!(body.starts_with(&format!("{}\n\n", note.text)), "{body}");
        for line in [
            "event: rolled-back\n",
            "rolled-back-to: v1.0.0\n",
            "dry-run: false\n",
            "duration-seconds: 3\n",
        ] {
            assert!(body.contains(line), "{line:?} in {body}");
        }
        assert!(!body.contains("journal-url"), "unknown fields are left out: {body}");
    }
}
