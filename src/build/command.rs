//! Why this exists: an artifact may need a build command first (`build = ["pnpm", "build"]`). It
//! runs as an argv — never through a shell unless the user writes `shell = "…"` — in the
//! repository, with a timeout, its output logged line by line, and a failure that names the
//! artifact, the command and the last lines it printed.
//!
//! Commands (build, test, audit, bench, docs, staging) run code from the repository, so they get
//! the environment without the release's own secrets ([`CommandEnv`]): the action's `INPUT_*`
//! and the tokens the tool reads, unless `[release] pass-env` names one.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Variables withheld from commands besides every `INPUT_*`: the tool's own secrets and the
/// runner's OIDC and runtime tokens.
pub const WITHHELD: &[&str] = &[
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "NPM_TOKEN",
    "REGISTRY_PASSWORD",
    "DEPLOY_SECRET",
    "SLACK_WEBHOOK",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SIGNING_KEY",
    "SIGNING_PASSPHRASE",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_RUNTIME_TOKEN",
];

/// The environment commands run with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandEnv(pub Vec<(String, String)>);

impl CommandEnv {
    /// `environment` (the process's, as the edge read it) without `INPUT_*` and [`WITHHELD`],
    /// except the names in `pass` (`[release] pass-env`).
    pub fn new(environment: &[(String, String)], pass: &[String]) -> CommandEnv {
        CommandEnv(
            environment
                .iter()
                .filter(|(name, _)| {
                    pass.contains(name)
                        || !(name.to_ascii_uppercase().starts_with("INPUT_") || WITHHELD.contains(&name.as_str()))
                })
                .cloned()
                .collect(),
        )
    }
}

/// The default timeout for a build command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The longest duration any setting takes: a week.
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Parses `500ms`, `90s`, `10m`, `1h` or plain seconds, up to [`MAX_DURATION`] (checked
/// arithmetic: a huge number is an error, never a wrap or a panic).
pub fn parse_duration(key: &str, text: &str) -> Result<Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let bad = || Error::input(key, format!("{text:?} is not a duration; use e.g. 500ms, 90s, 10m, 1h"));
    let too_long = || Error::input(key, format!("{text:?} is longer than the most allowed, 168h (a week)"));
    if number.is_empty() {
        return Err(bad());
    }
    let n: u64 = match number.parse() {
        Ok(n) => n,
        Err(_) if number.bytes().all(|b| b.is_ascii_digit()) => return Err(too_long()),
        Err(_) => return Err(bad()),
    };
    let millis = match unit.trim() {
        "ms" => Some(n),
        "" | "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => return Err(bad()),
    };
    match millis.map(Duration::from_millis) {
        Some(duration) if duration <= MAX_DURATION => Ok(duration),
        _ => Err(too_long()),
    }
}

/// Runs `argv` in `dir` with exactly `env`; `owner` names it in logs and errors (`artifact
/// "widget.tar.gz"`, `[validate] tests-command`). Output lines are logged; the last 20 go into the error
/// on failure.
pub fn run(owner: &str, argv: &[String], dir: &Path, timeout: Duration, env: &CommandEnv) -> Result<()> {
    let shown = argv.join(" ");
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| Error::input(owner, "the command is empty"))?;
    tracing::info!("{owner}: running {shown}");
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.0.iter().map(|(k, v)| (k, v)))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Failed(format!("{owner}: cannot start {program:?}: {e}")))?;
    let tail = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::<String>::new()));
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|stream| {
        let tail = tail.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(std::result::Result::ok) {
                tracing::info!(target: "tamma_release::build", "{line}");
                let mut tail = tail.lock().expect("no reader panics holding the lock");
                tail.push_back(line);
                if tail.len() > 20 {
                    tail.pop_front();
                }
            }
        })
    })
    .collect();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| Error::Failed(format!("{owner}: {e}")))? {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Failed(format!(
                "{owner}: `{shown}` ran longer than {}s and was stopped",
                timeout.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(25));
    };
    for reader in readers {
        let _ = reader.join();
    }
    if !status.success() {
        let tail: Vec<String> = tail.lock().expect("readers are done").iter().cloned().collect();
        return Err(Error::Failed(format!(
            "{owner}: `{shown}` failed ({status}); nothing was published. Last output:\n{}",
            tail.join("\n")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("t", "90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("t", "10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("t", "2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("t", "250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("t", "soon").is_err());
        assert!(parse_duration("t", "").is_err());
        assert!(parse_duration("t", "ms").is_err());
        assert_eq!(parse_duration("t", "168h").unwrap(), MAX_DURATION);
        for huge in [
            "18446744073709551615s",
            "99999999999999999999999",
            "5124095576030432h",
            "169h",
            "10081m",
        ] {
            let err = parse_duration("t", huge).unwrap_err().to_string();
            assert!(err.contains("longer than the most allowed"), "{huge}: {err}");
        }
    }

    #[test]
    fn secrets_are_withheld_unless_passed() {
        let environment: Vec<(String, String)> = [
            ("PATH", "/bin"),
            ("INPUT_NPM-TOKEN", "a"),
            ("input_github-token", "b"),
            ("GITHUB_TOKEN", "c"),
            ("NPM_TOKEN", "d"),
            ("NODE_AUTH_TOKEN", "e"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .to_vec();
        let names = |env: CommandEnv| env.0.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(names(CommandEnv::new(&environment, &[])), ["PATH", "NODE_AUTH_TOKEN"]);
        assert_eq!(
            names(CommandEnv::new(&environment, &["NPM_TOKEN".into()])),
            ["PATH", "NPM_TOKEN", "NODE_AUTH_TOKEN"]
        );
    }

    fn path_only() -> CommandEnv {
        CommandEnv(vec![("PATH".into(), std::env::var("PATH").unwrap_or_default())])
    }

    #[test]
    fn failures_carry_the_tail_and_timeouts_stop() {
        let dir = tempfile::tempdir().unwrap();
        let argv: Vec<String> = ["sh", "-c", "echo one; echo two >&2; exit 3"]
            .map(String::from)
            .to_vec();
        let err = run("x", &argv, dir.path(), DEFAULT_TIMEOUT, &path_only())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("failed") && err.contains("one") && err.contains("two"),
            "{err}"
        );
        let argv: Vec<String> = ["sleep", "5"].map(String::from).to_vec();
        let err = run("x", &argv, dir.path(), Duration::from_millis(200), &path_only())
            .unwrap_err()
            .to_string();
        assert!(err.contains("ran longer than"), "{err}");
        assert!(run("x", &["true".to_string()], dir.path(), DEFAULT_TIMEOUT, &path_only()).is_ok());
    }
}
