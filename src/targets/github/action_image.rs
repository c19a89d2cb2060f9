//! Why this exists: a container action whose action.yml says `image: Dockerfile` is built on every
//! job that uses it — minutes of compiling for a Rust tool. The tag users pin (`@v1`) should
//! instead point at a commit whose action.yml runs the image this release pushed, by digest. That
//! commit is made here through the Git Data API: the release commit's tree with one file changed.

use reqwest::Method;
use serde_json::json;

use crate::error::{Error, Result};
use crate::plan::ReleasePlan;
use crate::targets::github::client::{ApiSha, GitHubClient};

/// The action file at the repository root.
pub const ACTION_FILE: &str = "action.yml";

/// `action.yml` with the `runs.image` of a Docker action replaced by `docker://<reference>`.
pub fn rewrite_action_yml(text: &str, reference: &str) -> Result<String> {
    let mut out = Vec::new();
    let mut in_runs = false;
    let (mut docker, mut replaced) = (false, false);
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        if indent == 0 && !trimmed.is_empty() && !trimmed.starts_with('#') {
            in_runs = trimmed.starts_with("runs:");
        }
        if in_runs && indent > 0 {
            if let Some(value) = trimmed.strip_prefix("using:") {
                docker = value.trim().trim_matches(['"', '\'']) == "docker";
            }
            if trimmed.starts_with("image:") {
                out.push(format!("{}image: 'docker://{reference}'", &line[..indent]));
                replaced = true;
                continue;
            }
        }
        out.push(line.to_string());
    }
    if !docker || !replaced {
        return Err(Error::input(
            "release.action-image",
            format!(
                "{ACTION_FILE} is not a Docker container action (runs.using: docker with runs.image); nothing to point at the image"
            ),
        ));
    }
    let mut text = out.join("\n");
    text.push('\n');
    Ok(text)
}

/// The tree of `commit` and its action.yml, checked to be a Docker action whose image can be
/// rewritten — before anything is staged, and in a dry run.
pub fn action_yml_at(workspace: &std::path::Path, commit: &str) -> Result<(String, String)> {
    let repo = crate::plan::git::GitRepo::discover(workspace)?;
    let (tree, content) = repo.file_at(commit, ACTION_FILE)?;
    let content = content.ok_or_else(|| {
        Error::input(
            "release.action-image",
            format!("the release commit has no {ACTION_FILE} at the repository root"),
        )
    })?;
    let text = String::from_utf8(content)
        .map_err(|_| Error::input("release.action-image", format!("{ACTION_FILE} is not UTF-8")))?;
    rewrite_action_yml(&text, "check@sha256:0")?;
    Ok((tree, text))
}

/// Commits `action_yml` (from the release commit, whose tree is `tree`; see [`action_yml_at`])
/// rewritten to `reference`, on top of the release commit, and returns the new commit. Its author
/// and committer time is the release commit's, so a re-run makes the very same commit.
pub fn stage_action_commit(
    client: &GitHubClient,
    plan: &ReleasePlan,
    tree: &str,
    action_yml: &str,
    reference: &str,
) -> Result<String> {
    let rewritten = rewrite_action_yml(action_yml, reference)?;
    let blob = client.create_blob(rewritten.as_bytes())?;
    let what = "writing the action commit";
    let payload =
        json!({"base_tree": tree, "tree": [{"path": ACTION_FILE, "mode": "100644", "type": "blob", "sha": blob}]});
    let url = client.repo_url("/git/trees");
    let tree = client
        .call::<ApiSha>(Method::POST, true, &url, Some(&payload), what)?
        .ok_or_else(|| Error::Failed(format!("{what}: GitHub answered 404")))?
        .sha;
    let date = crate::dates::rfc3339(plan.commit_time);
    let person = json!({"name": "tamma-release", "email": "tamma-release@users.noreply.github.com", "date": date});
    let payload = json!({
        "message": format!("{ACTION_FILE}: run {reference} ({})\n\nThe prebuilt image of {}, so users of the action never build it.", plan.tag, plan.tag),
        "tree": tree, "parents": [plan.commit], "author": person, "committer": person,
    });
    let url = client.repo_url("/git/commits");
    Ok(client
        .call::<ApiSha>(Method::POST, true, &url, Some(&payload), what)?
        .ok_or_else(|| Error::Failed(format!("{what}: GitHub answered 404")))?
        .sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTION: &str = "name: x\nruns:\n  using: docker\n  image: Dockerfile # built on every job\n  args: [action]\nbranding:\n  icon: tag\n";

    #[test]
    fn the_image_line_of_runs_is_replaced() {
        let out = rewrite_action_yml(ACTION, "ghcr.io/acme/x@sha256:abc").unwrap();
        assert_eq!(
            out,
            "name: x\nruns:\n  using: docker\n  image: 'docker://ghcr.io/acme/x@sha256:abc'\n  args: [action]\nbranding:\n  icon: tag\n"
        );
    }

    #[test]
    fn a_javascript_action_is_refused() {
        let error = rewrite_action_yml("runs:\n  using: node20\n  main: index.js\n", "x@sha256:a").unwrap_err();
        assert!(error.to_string().contains("not a Docker container action"), "{error}");
    }
}
