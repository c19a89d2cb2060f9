//! Why this exists: people want to hear that a release went out — or failed — where they already
//! are. Each `[notify] webhooks` URL gets a JSON message, the `slack-webhook` input a Slack
//! message, `[notify.email]` a mail; what they say is rendered from the run's report
//! ([`Notification`]), and this only delivers it. A notification that fails is a warning, never a
//! failed release.

use crate::config::Config;
use crate::report::Notification;
use crate::request::ReleaseRequest;
use crate::targets::StepRecord;

/// Mails `note` to `[notify.email]`. A failure is a warning step.
fn email_step(email: &crate::config::EmailConfig, request: &ReleaseRequest, note: &Notification) -> StepRecord {
    let ca = match &email.ca {
        Some(path) => match crate::prepare::inside(&request.workspace, path, "notify.email.ca")
            .and_then(|relative| crate::prepare::read(&request.workspace.join(relative)))
        {
            Ok(pem) => Some(pem.into_bytes()),
            Err(error) => return email_failed(&email.smtp, &error.to_string()),
        },
        None => None,
    };
    match crate::targets::email::send(
        email,
        ca.as_deref(),
        request.smtp.as_ref(),
        note.subject(),
        &note.mail_body(),
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

/// Sends the note's message to every `[notify] webhooks` URL, its text to Slack and a mail to
/// `[notify.email]`; returns what was done. Nothing is sent in a dry run; a failure is a warning.
pub fn deliver(config: &Config, request: &ReleaseRequest, note: &Notification) -> Vec<StepRecord> {
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
        .map(|u| (u.clone(), note.message.clone()))
        .collect();
    if let Some(url) = slack {
        targets.push((url, serde_json::json!({ "text": note.text })));
    }
    if let Some(email) = &config.notify.email {
        steps.push(email_step(email, request, note));
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
