//! Why this exists: people want to hear that a release went out — or failed — where they already
//! are. Each `[notify] webhooks` URL gets a JSON message, the `slack-webhook` input a Slack
//! message; a notification that fails is a warning, never a failed release.

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
    let message = serde_json::json!({
        "event": outcome, "version": plan.version, "tag": plan.tag, "repository": plan.repository, "url": link,
        "error": failure.map(|e| crate::redact::urls(&e.to_string())), "duration-seconds": duration.as_secs(),
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
    report.steps.extend(deliver(config, request, &message, &text));
}

/// Sends `message` to every `[notify] webhooks` URL and `text` to Slack; returns what was done.
/// Nothing is sent in a dry run; a failure is a warning.
pub fn deliver(config: &Config, request: &ReleaseRequest, message: &serde_json::Value, text: &str) -> Vec<StepRecord> {
    let slack = request.slack_webhook.as_ref().map(|s| s.expose().to_string());
    if request.dry_run || (config.notify.webhooks.is_empty() && slack.is_none()) {
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
