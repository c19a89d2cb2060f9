//! Why this exists: after the pointers move, a release is deployed — the docs site committed to
//! its branch through the Git Data API (a commit staged first, the branch moved at flip with its
//! old value recorded), a staging environment recorded as a GitHub Deployment and reached through
//! a signed webhook and/or a command, then a smoke check polled with backoff. A failed check marks
//! the deployment failed and makes the pipeline put every moved pointer back.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};

use crate::config::{DocsDeploy, SmokeCheck, StagingDeploy};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::targets::StepRecord;
use crate::targets::github::client::GitHubClient;
use crate::targets::github::gitdata::{TreeEntry, git_blob_sha};

/// A docs commit made and not yet pointed to.
#[derive(Debug, Clone)]
pub struct StagedDocs {
    /// The branch.
    pub branch: String,
    /// Where it points now.
    pub old: Option<String>,
    /// The commit to point it at.
    pub commit: String,
}

/// The files of the built site, relative to its folder, sorted. A symbolic link inside the site is
/// followed when it points inside the site folder (its content is published under the link's
/// name); one that leads out of it — elsewhere in the repository or out of it — is refused, as are
/// broken links and link loops, so nothing but the site can reach the docs branch.
pub fn site_files(workspace: &std::path::Path, docs: &DocsDeploy) -> Result<Vec<(String, PathBuf)>> {
    let dir = crate::build::files::inside(workspace, "[deploy.docs] path", &docs.path)?;
    let canonical = dir.canonicalize().map_err(|source| Error::ReadFile {
        path: dir.clone(),
        source,
    })?;
    let mut site: Vec<(String, PathBuf)> = Vec::new();
    let called = format!("the docs folder {}", docs.path);
    let links = crate::build::files::Links::Within(&canonical, &called);
    crate::build::files::walk(&dir, "", links, "[deploy.docs] path", &mut |relative, path| {
        site.push((relative.to_string(), path.to_path_buf()));
        Ok(())
    })?;
    if site.is_empty() {
        return Err(Error::input(
            "[deploy.docs] path",
            format!("the docs directory {:?} is empty; build the site first", docs.path),
        ));
    }
    Ok(site)
}

/// Commits the site for `tag` (uploading only the files that changed), without moving the branch.
pub fn stage_docs(
    client: &GitHubClient,
    workspace: &std::path::Path,
    docs: &DocsDeploy,
    plan: &crate::plan::ReleasePlan,
    steps: &mut Vec<StepRecord>,
) -> Result<StagedDocs> {
    let (version, tag) = (plan.version.as_str(), plan.tag.as_str());
    let site = site_files(workspace, docs)?;
    let old = client.branch_commit(&docs.branch)?;
    let existing = match &old {
        Some(commit) => client.commit_files(commit)?,
        None => Vec::new(),
    };
    // A prerelease gets its own directory and leaves latest/ to the last stable release.
    let prefixes: Vec<String> = if docs.versioned && plan.prerelease {
        vec![format!("v{version}/")]
    } else if docs.versioned {
        vec![format!("v{version}/"), "latest/".to_string()]
    } else {
        vec![String::new()]
    };
    let mut entries: Vec<TreeEntry> = if docs.versioned {
        existing
            .iter()
            .filter(|e| !prefixes.iter().any(|p| e.path.starts_with(p.as_str())) && e.path != ".nojekyll")
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let known: std::collections::HashSet<String> = existing.iter().map(|e| e.sha.clone()).collect();
    let mut uploaded = 0;
    let mut files: Vec<(String, Vec<u8>)> = vec![(".nojekyll".to_string(), Vec::new())];
    for (relative, path) in &site {
        let bytes = std::fs::read(path).map_err(|source| Error::ReadFile {
            path: path.clone(),
            source,
        })?;
        for prefix in &prefixes {
            files.push((format!("{prefix}{relative}"), bytes.clone()));
        }
    }
    let mut sent: std::collections::HashSet<String> = std::collections::HashSet::new();
    for (path, bytes) in files {
        let sha = git_blob_sha(&bytes);
        if !known.contains(&sha) && sent.insert(sha.clone()) {
            client.create_blob(&bytes)?;
            uploaded += 1;
        }
        entries.push(TreeEntry { path, sha });
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let mut before = existing.clone();
    before.sort_by(|a, b| a.path.cmp(&b.path));
    if old.is_some() && before == entries {
        steps.push(StepRecord {
            target: "docs".into(),
            action: format!("the {} branch already holds this site", docs.branch),
            dry_run: false,
        });
        let commit = old.clone().unwrap_or_default();
        return Ok(StagedDocs {
            branch: docs.branch.clone(),
            old,
            commit,
        });
    }
    let tree = client.create_tree(&entries)?;
    let parents: Vec<String> = old.iter().cloned().collect();
    let commit = client.create_commit(&format!("docs: {tag}"), &tree, &parents)?;
    steps.push(StepRecord {
        target: "docs".into(),
        action: format!(
            "committed the site for {tag} ({} file(s), {uploaded} uploaded) as {}",
            entries.len(),
            &commit[..commit.len().min(12)]
        ),
        dry_run: false,
    });
    Ok(StagedDocs {
        branch: docs.branch.clone(),
        old,
        commit,
    })
}

/// Records the docs deployment (environment `docs`, URL from `[deploy.docs] url`) as succeeded.
pub fn record_docs(
    client: &GitHubClient,
    docs: &DocsDeploy,
    tag: &str,
    log_url: Option<&str>,
    steps: &mut Vec<StepRecord>,
) -> Result<u64> {
    let id = client.create_deployment(tag, "docs", &format!("docs for {tag}"))?;
    client.deployment_status(id, "success", docs.url.as_deref(), log_url, "docs branch moved")?;
    steps.push(StepRecord {
        target: "docs".into(),
        action: format!("recorded deployment {id} of the docs for {tag}"),
        dry_run: false,
    });
    Ok(id)
}

/// `sha256=<hex>` of the body under the deploy secret.
pub fn signature(secret: &Secret, body: &[u8]) -> String {
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", crate::build::checksum::hex(&mac.finalize().into_bytes()))
}

/// Polls the smoke check until it passes or times out.
pub fn smoke(http: &crate::http::Http, check: &SmokeCheck) -> Result<()> {
    let timeout = crate::build::command::parse_duration("deploy.staging.smoke.timeout", &check.timeout)?;
    let started = Instant::now();
    let mut wait = Duration::from_millis(250);
    let mut last;
    loop {
        match http.client().get(&check.url).send() {
            Ok(response) => {
                let status = response.status().as_u16();
                // The expected text must be in the first MiB; more is never read.
                let body = crate::http::read_prefix(response, 1 << 20);
                let contains = check.contains.as_ref().is_none_or(|c| body.contains(c.as_str()));
                if status == check.expect_status && contains {
                    return Ok(());
                }
                last = format!(
                    "HTTP {status}{}",
                    if contains { "" } else { " without the expected text" }
                );
            }
            Err(e) => last = e.without_url().to_string(),
        }
        if started.elapsed() + wait > timeout {
            return Err(Error::Failed(format!(
                "the smoke check {} did not pass within {} (last: {last})",
                crate::redact::urls(&check.url),
                check.timeout
            )));
        }
        std::thread::sleep(wait);
        wait = (wait * 2).min(Duration::from_secs(10));
    }
}

/// Deploys staging: a deployment record, the webhook and/or command, the smoke check, the status.
#[allow(clippy::too_many_arguments)]
pub fn deploy_staging(
    client: &GitHubClient,
    http: &crate::http::Http,
    staging: &StagingDeploy,
    secret: Option<&Secret>,
    payload: &serde_json::Value,
    tag: &str,
    log_url: Option<&str>,
    workspace: &std::path::Path,
    env: &crate::build::command::CommandEnv,
    steps: &mut Vec<StepRecord>,
) -> Result<u64> {
    let id = client.create_deployment(tag, &staging.environment, &format!("tamma-release {tag}"))?;
    client.deployment_status(id, "in_progress", staging.url.as_deref(), log_url, "deploying")?;
    steps.push(StepRecord {
        target: "deploy".into(),
        action: format!("deployment {id} of {tag} to {} started", staging.environment),
        dry_run: false,
    });
    let result = (|| {
        if let Some(url) = &staging.webhook {
            let body = serde_json::to_vec(payload).expect("a payload serializes");
            let mut request = http
                .client()
                .post(url)
                .header("content-type", "application/json")
                .body(body.clone());
            if let Some(secret) = secret {
                request = request.header("x-tamma-signature-256", signature(secret, &body));
            }
            let shown = crate::redact::urls(url);
            let response = request
                .send()
                .map_err(|e| Error::Failed(format!("the deploy webhook {shown} failed: {}", e.without_url())))?;
            if !response.status().is_success() {
                return Err(Error::Failed(format!(
                    "the deploy webhook {shown} answered {}",
                    response.status()
                )));
            }
        }
        if !staging.command.is_empty() {
            crate::build::command::run(
                "[deploy.staging] command",
                &staging.command,
                workspace,
                crate::build::command::DEFAULT_TIMEOUT,
                env,
            )?;
        }
        if let Some(check) = &staging.smoke {
            smoke(http, check)?;
        }
        Ok(())
    })();
    match &result {
        Ok(()) => {
            client.deployment_status(id, "success", staging.url.as_deref(), log_url, "deployed")?;
            steps.push(StepRecord {
                target: "deploy".into(),
                action: format!("{} is live: deployment {id} succeeded", staging.environment),
                dry_run: false,
            });
        }
        Err(e) => {
            let _ = client.deployment_status(id, "failure", staging.url.as_deref(), log_url, &e.to_string());
            steps.push(StepRecord {
                target: "deploy".into(),
                action: format!("deployment {id} failed: {e}"),
                dry_run: false,
            });
        }
    }
    result.map(|()| id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn signatures_are_hmac_sha256() {
        // RFC 4231 test case 2.
        let secret = crate::secret::Secret::new("Jefe").unwrap();
        assert_eq!(
            super::signature(&secret, b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
