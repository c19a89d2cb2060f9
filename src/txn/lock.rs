//! Why this exists: two runs for the same version (a re-run racing the first, two matrix
//! publishers) or a release racing a rollback must not interleave their flips, or the journal of
//! one records the other's values as "old". GitHub refuses to create a ref that exists, so
//! `refs/tamma-release/lock` is a lock with no server of our own; it points at a tag object saying
//! who holds it and since when, so a lock left by a killed run can be recognised and taken over.

use std::time::Duration;

use crate::context::CiContext;
use crate::error::{Error, Result};
use crate::targets::github::client::GitHubClient;
use crate::targets::github::refs::LockHolder;

/// The lock ref.
pub const LOCK_REF: &str = "refs/tamma-release/lock";

/// How long to wait for a held lock, and when a lock counts as left behind.
#[derive(Debug, Clone, Copy)]
pub struct LockSettings {
    /// Give up after this long.
    pub wait: Duration,
    /// A lock older than this is taken over.
    pub stale: Duration,
    /// How often a held lock is looked at again.
    pub poll: Duration,
}

impl LockSettings {
    /// From `[release] lock-wait` and `lock-stale` (defaults 10 minutes and 1 hour).
    pub fn from_config(config: &crate::config::Config) -> Result<LockSettings> {
        use crate::build::command::parse_duration;
        let wait = match &config.release.lock_wait {
            Some(text) => parse_duration("release.lock-wait", text)?,
            None => Duration::from_secs(600),
        };
        let stale = match &config.release.lock_stale {
            Some(text) => parse_duration("release.lock-stale", text)?,
            None => Duration::from_secs(3600),
        };
        Ok(LockSettings {
            wait,
            stale,
            poll: (wait / 20).clamp(Duration::from_millis(200), Duration::from_secs(10)),
        })
    }
}

/// A lock we hold; [`Lock::release`] gives it back.
pub struct Lock {
    client: GitHubClient,
    object: String,
}

/// The words a lock carries: parsed back to recognise our own earlier attempt.
fn holder_text(ci: &CiContext, what: &str) -> String {
    let mut text = format!("tamma-release lock\nfor: {what}\npid: {}\n", std::process::id());
    if let (Some(id), Some(attempt)) = (&ci.run_id, &ci.run_attempt) {
        text.push_str(&format!("run-id: {id}\nrun-attempt: {attempt}\n"));
    }
    if let Some(url) = &ci.run_url {
        text.push_str(&format!("run: {url}\n"));
    }
    text
}

fn field<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    text.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|rest| rest.strip_prefix(": ")))
        .map(str::trim)
}

/// Whether `holder` is an earlier attempt of this very workflow run: attempts run one after the
/// other, so that attempt is over and its lock was left behind by a kill or a cancel.
fn earlier_attempt_of_ours(holder: &LockHolder, ci: &CiContext) -> bool {
    matches!(
        (field(&holder.holder, "run-id"), field(&holder.holder, "run-attempt"), &ci.run_id, &ci.run_attempt),
        (Some(id), Some(attempt), Some(our_id), Some(our_attempt)) if id == our_id && attempt != our_attempt
    )
}

fn describe(holder: &LockHolder) -> String {
    let what = field(&holder.holder, "for").unwrap_or("another run");
    let run = field(&holder.holder, "run")
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    format!("{what}{run} since {}", holder.since)
}

impl Lock {
    /// Takes the lock for `what` (e.g. "release v1.2.0"), waiting while another run holds it and
    /// taking over a lock that is stale or left by an earlier attempt of this run.
    pub fn acquire(
        client: &GitHubClient,
        ci: &CiContext,
        what: &str,
        commit: &str,
        settings: LockSettings,
    ) -> Result<Lock> {
        let started = std::time::Instant::now();
        let holder = holder_text(ci, what);
        let mut told = false;
        loop {
            let now = crate::txn::journal::now();
            let current = match client.try_lock(LOCK_REF, &holder, commit, &now)? {
                Ok(object) => {
                    return Ok(Lock {
                        client: client.clone(),
                        object,
                    });
                }
                Err(current) => current,
            };
            let age = crate::dates::parse_rfc3339(&current.since)
                .zip(crate::dates::parse_rfc3339(&now))
                .map(|(since, now)| Duration::from_secs((now - since).max(0) as u64));
            if earlier_attempt_of_ours(&current, ci) || age.is_some_and(|a| a >= settings.stale) {
                tracing::warn!("taking over the release lock left by {}", describe(&current));
                client.unlock(LOCK_REF, &current.object)?;
                continue;
            }
            if started.elapsed() >= settings.wait {
                return Err(Error::Failed(format!(
                    "the release lock {LOCK_REF} is held by {}; waited {}s. It is taken over once it is older than {}s ([release] lock-stale); if no run is releasing, delete it: gh api -X DELETE repos/{}/git/{LOCK_REF}",
                    describe(&current),
                    settings.wait.as_secs(),
                    settings.stale.as_secs(),
                    ci.repository.as_deref().unwrap_or("OWNER/NAME"),
                )));
            }
            if !told {
                tracing::info!("waiting for the release lock, held by {}", describe(&current));
                told = true;
            }
            // Look (a read) until it is gone or stale, then try again (a write).
            loop {
                std::thread::sleep(settings.poll);
                match client.read_lock(LOCK_REF)? {
                    None => break,
                    Some(h) if earlier_attempt_of_ours(&h, ci) => break,
                    Some(_) if started.elapsed() >= settings.wait => break,
                    Some(h) => {
                        let stale = crate::dates::parse_rfc3339(&h.since)
                            .zip(crate::dates::parse_rfc3339(&crate::txn::journal::now()))
                            .is_some_and(|(since, now)| (now - since).max(0) as u64 >= settings.stale.as_secs());
                        if stale {
                            break;
                        }
                    }
                }
            }
        }
    }

    /// Gives the lock back (only if it is still ours).
    pub fn release(self) -> Result<()> {
        self.client.unlock(LOCK_REF, &self.object)?;
        tracing::info!("released the release lock");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ci(id: &str, attempt: &str) -> CiContext {
        CiContext {
            run_id: Some(id.into()),
            run_attempt: Some(attempt.into()),
            ..CiContext::default()
        }
    }

    #[test]
    fn an_earlier_attempt_of_the_same_run_is_recognised() {
        let held = LockHolder {
            object: "x".into(),
            holder: holder_text(&ci("42", "1"), "release v1.0.0"),
            since: "2026-11-25T09:00:00Z".into(),
        };
        assert!(earlier_attempt_of_ours(&held, &ci("42", "2")));
        assert!(!earlier_attempt_of_ours(&held, &ci("42", "1")), "that is us");
        assert!(!earlier_attempt_of_ours(&held, &ci("43", "2")), "another run");
        assert!(!earlier_attempt_of_ours(&held, &CiContext::default()));
        assert_eq!(describe(&held), "release v1.0.0 since 2026-11-25T09:00:00Z");
    }
}
