//! Why this exists: people want to hear that a release went out — or failed — where they already
//! are. Each `[notify] webhooks` URL gets a JSON message, the `slack-webhook` input a Slack
//! message, each with links to the workflow run and the release's journal; a notification that
//! fails is a warning, never a failed release.

use crate::config::Config;
use crate::error::Error;
use crate::report::RunReport;
use crate::request::ReleaseRequest;
use crate::targets::StepRecord;

/// Sends the outcome to every configured webhook (not in a dry run).
pub fn send(
    config: &Config,
    request: &ReleaseRequest,
    report: &mut RunReport,
    failure: Option<&Error>,
    duration: std::time::Duration,
) {
    let plan = &report.plan;
    let outcome = if failure.is_some() { "failed" } else { "released" };
    let link = report
        .release
        .as_ref()
        .and_then(|r| r.url.clone())
        .or_else(|| request.ci.run_url.clone())
        .unwrap_or_default();
    // A published release's assets download from …/releases/download/<tag>/<name>, the page's
    // address with `tag` for `download` (on GHES too); a draft's are not public.
    let journal = report
        .release
        .as_ref()
        .filter(|r| !r.draft)
        .and_then(|r| r.url.as_deref())
        .filter(|url| url.contains("/releases/tag/"))
        .map(|url| {
            format!(
                "{}/{}",
                url.replacen("/releases/tag/", "/releases/download/", 1),
                crate::txn::journal::JOURNAL_ASSET
            )
        });
    let run = request.ci.run_url.clone();
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
        "run-url": run, "journal-url": journal, "moved": moved,
    });
    let text = match failure {
        Some(error) => format!(
            "tamma-release: {} {} failed: {}",
            plan.repository.as_deref().unwrap_or_default(),
            plan.tag,
            crate::redact::urls(&error.to_string())
        ),
        None => format!(
            "tamma-release: {} {} released {link}",
            plan.repository.as_deref().unwrap_or_default(),
            plan.tag
        ),
    };
    let text = with_links(text, run.as_deref(), journal.as_deref());
    report.steps.extend(deliver(config, request, &message, &text));
}

/// Mails `message` to `[notify.email]`: `text`'s first line is the subject; the body is `text`
/// and every field of the message. A failure is a warning step.
fn email_step(
    email: &crate::config::EmailConfig,
    request: &ReleaseRequest,
    message: &serde_json::Value,
    text: &str,
) -> StepRecord {
    let ca = match &email.ca {
        Some(path) => match crate::prepare::inside(&request.workspace, path, "notify.email.ca")
            .and_then(|relative| crate::prepare::read(&request.workspace.join(relative)))
        {
            Ok(pem) => Some(pem.into_bytes()),
            Err(error) => return email_failed(&email.smtp, &error.to_string()),
        },
        None => None,
    };
    let subject = text.lines().next().unwrap_or_default();
    match crate::targets::email::send(
        email,
        ca.as_deref(),
        request.smtp.as_ref(),
        subject,
        &mail_body(text, message),
    ) {
        Ok(server) => StepRecord {
            target: "notify".into(),
            action: format!("emailed {} through {server}", email.to.join(", ")),
            dry_run: false,
        },
        Err(why) => email_failed(&email.smtp, &why),
    }
}

fn email_failed(server: &str, why: &str) -> StepRecord {
    tracing::warn!("the email through {server} failed ({why}); the release is not affected");
    StepRecord {
        target: "notify".into(),
        action: format!("emailed through {server} (failed: {why}; a warning only)"),
        dry_run: false,
    }
}

/// The mail's body: the chat text, then each field of the webhook message on a line.
fn mail_body(text: &str, message: &serde_json::Value) -> String {
    let mut body = format!("{text}\n\n");
    let Some(fields) = message.as_object() else {
        return body;
    };
    for (key, value) in fields {
        match value {
            serde_json::Value::Null => {}
            serde_json::Value::String(text) => body.push_str(&format!("{key}: {text}\n")),
            serde_json::Value::Array(list) if list.is_empty() => {}
            serde_json::Value::Array(list) => {
                body.push_str(&format!("{key}:\n"));
                for item in list {
                    let line = match (item.get("pointer"), item.get("after")) {
                        (Some(pointer), Some(after)) => format!(
                            "{} : {} -> {}",
                            pointer.as_str().unwrap_or_default(),
                            item.get("before").and_then(|b| b.as_str()).unwrap_or("nothing"),
                            after.as_str().unwrap_or_default()
                        ),
                        _ => item.to_string(),
                    };
                    body.push_str(&format!("  {line}\n"));
                }
            }
            other => body.push_str(&format!("{key}: {other}\n")),
        }
    }
    body
}

/// `text` with the run's and the journal's links on lines of their own, where known.
pub fn with_links(mut text: String, run: Option<&str>, journal: Option<&str>) -> String {
    if let Some(run) = run {
        text.push_str(&format!("\nrun: {run}"));
    }
    if let Some(journal) = journal {
        text.push_str(&format!("\njournal: {journal}"));
    }
    text
}

/// Sends `message` to every `[notify] webhooks` URL and `text` to Slack; returns what was done.
/// Nothing is sent in a dry run; a failure is a warning.
pub fn deliver(config: &Config, request: &ReleaseRequest, message: &serde_json::Value, text: &str) -> Vec<StepRecord> {
    let slack = request.slack_webhook.as_ref().map(|s| s.expose().to_string());
    if request.dry_run || (config.notify.webhooks.is_empty() && slack.is_none() && config.notify.email.is_none()) {
        return Vec::new();
    }
    let Ok(http) = crate::http::Http::new(crate::http::HttpPolicy::default()) else {
        return Vec::new();
    };
    let mut steps = Vec::new();
    let mut targets: Vec<(String, serde_json::Value)> = config
        .notify
        .webhooks
        .iter()
        .map(|u| (u.clone(), message.clone()))
        .collect();
    if let Some(url) = slack {
        targets.push((url, serde_json::json!({ "text": text })));
    }
    if let Some(email) = &config.notify.email {
        steps.push(email_step(email, request, message, text));
    }
    for (url, body) in targets {
        let sent = http.client().post(&url).json(&body).send();
        let ok = sent.as_ref().is_ok_and(|r| r.status().is_success());
        // Only the origin: a webhook's path is often its secret (Slack's is).
        let shown = crate::redact::urls(&url.split('/').take(3).collect::<Vec<_>>().join("/"));
        if !ok {
            tracing::warn!("the notification to {shown} failed; the release is not affected");
        }
        steps.push(StepRecord {
            target: "notify".into(),
            action: format!("notified {shown}{}", if ok { "" } else { " (failed; a warning only)" }),
            dry_run: false,
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    #[test]
    fn chat_messages_end_with_the_links_that_are_known() {
        let run = "https://github.com/o/r/actions/runs/7";
        let journal = "https://github.com/o/r/releases/download/v1.0.0/release-journal.json";
        assert_eq!(
            super::with_links("released".into(), Some(run), Some(journal)),
            format!("released\nrun: {run}\njournal: {journal}")
        );
        assert_eq!(
            super::with_links("failed".into(), Some(run), None),
            format!("failed\nrun: {run}")
        );
        assert_eq!(super::with_links("local".into(), None, None), "local");
    }
}
