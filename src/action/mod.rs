//! Why this exists: the GitHub Actions edge speaks the runner's protocols — inputs as `INPUT_*`
//! variables, the event payload, `$GITHUB_OUTPUT`, workflow commands. Everything here is a pure
//! function over values the binary hands in (it reads no environment and prints nothing itself), so
//! each protocol rule is unit-tested against the runner's own parsing rules.

pub mod commands;
pub mod event;
pub mod inputs;
pub mod outputs;
pub mod spec;

use std::collections::BTreeMap;

use crate::context::CiContext;

/// A snapshot of the process environment, taken once by the binary.
pub type Env = BTreeMap<String, String>;

/// The CI context from `GITHUB_*` variables (empty ones count as absent).
pub fn ci_context(env: &Env) -> CiContext {
    let get = |key: &str| env.get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let repository = get("GITHUB_REPOSITORY");
    let server_url = get("GITHUB_SERVER_URL");
    let run_url = match (&server_url, &repository, get("GITHUB_RUN_ID")) {
        (Some(server), Some(repo), Some(run)) => {
            Some(format!("{}/{repo}/actions/runs/{run}", server.trim_end_matches('/')))
        }
        _ => None,
    };
    CiContext {
        repository,
        server_url,
        api_url: get("GITHUB_API_URL"),
        git_ref: get("GITHUB_REF"),
        sha: get("GITHUB_SHA"),
        event_name: get("GITHUB_EVENT_NAME"),
        run_url,
        run_id: get("GITHUB_RUN_ID"),
        run_attempt: get("GITHUB_RUN_ATTEMPT"),
        workflow_ref: get("GITHUB_WORKFLOW_REF"),
    }
}

/// Whether we run as a step of a GitHub Actions job.
pub fn in_actions(env: &Env) -> bool {
    env.get("GITHUB_ACTIONS").is_some_and(|v| v == "true")
}
