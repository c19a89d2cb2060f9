//! Why this exists: an artifact may need a build command first (`build = ["pnpm", "build"]`). It
//! runs as an argv — never through a shell unless the user writes `shell = "…"` — in the
//! repository, with a timeout, its output logged line by line, and a failure that names the
//! artifact, the command and the last lines it printed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The default timeout for a build command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Parses `500ms`, `90s`, `10m`, `1h` or plain seconds.
pub fn parse_duration(key: &str, text: &str) -> Result<Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let bad = || Error::input(key, format!("{text:?} is not a duration; use e.g. 500ms, 90s, 10m, 1h"));
    let n: u64 = number.parse().map_err(|_| bad())?;
    Ok(match unit.trim() {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(bad()),
    })
}

/// Runs `argv` in `dir`. Output lines are logged; the last 20 go into the error on failure.
pub fn run(artifact: &str, argv: &[String], dir: &Path, timeout: Duration) -> Result<()> {
    let shown = argv.join(" ");
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| Error::input(format!("artifact {artifact:?}"), "build is empty"))?;
    tracing::info!(artifact, "running {shown}");
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Failed(format!("artifact {artifact:?}: cannot start {program:?}: {e}")))?;
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
        if let Some(status) = child
            .try_wait()
            .map_err(|e| Error::Failed(format!("artifact {artifact:?}: {e}")))?
        {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Failed(format!(
                "artifact {artifact:?}: `{shown}` ran longer than {}s and was stopped",
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
            "artifact {artifact:?}: `{shown}` failed ({status}); nothing was published. Last output:\n{}",
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
    }

    #[test]
    fn failures_carry_the_tail_and_timeouts_stop() {
        let dir = tempfile::tempdir().unwrap();
        let argv: Vec<String> = ["sh", "-c", "echo one; echo two >&2; exit 3"]
            .map(String::from)
            .to_vec();
        let err = run("x", &argv, dir.path(), DEFAULT_TIMEOUT).unwrap_err().to_string();
        assert!(
            err.contains("failed") && err.contains("one") && err.contains("two"),
            "{err}"
        );
        let argv: Vec<String> = ["sleep", "5"].map(String::from).to_vec();
        let err = run("x", &argv, dir.path(), Duration::from_millis(200))
            .unwrap_err()
            .to_string();
        assert!(err.contains("ran longer than"), "{err}");
        assert!(run("x", &["true".to_string()], dir.path(), DEFAULT_TIMEOUT).is_ok());
    }
}
