//! Why this exists: `$GITHUB_OUTPUT` is parsed by the runner line by line; a value that contains
//! the heredoc delimiter silently truncates, and a malformed file fails the step. Every value is
//! written in heredoc form with a fresh random delimiter that is checked not to occur in it.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

fn random_delimiter() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("ghadelimiter_{hex}")
}

/// One output in the runner's heredoc form: `name<<DELIM\nvalue\nDELIM\n`.
pub fn format_output(name: &str, value: &str) -> String {
    let mut delimiter = random_delimiter();
    while value.contains(&delimiter) {
        delimiter = random_delimiter();
    }
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

/// Appends outputs to the file the runner reads (`$GITHUB_OUTPUT`), or to `--output-file`.
pub fn append_outputs(path: &Path, outputs: &[(&str, String)]) -> Result<()> {
    let text: String = outputs.iter().map(|(name, value)| format_output(name, value)).collect();
    append(path, &text)
}

/// Appends text to a file, creating it if needed.
pub fn append(path: &Path, text: &str) -> Result<()> {
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        file.write_all(text.as_bytes())?;
        file.flush()
    };
    write().map_err(|source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_fresh_and_absent_from_the_value() {
        let a = format_output("changelog", "line 1\nEOF\nline 3");
        let b = format_output("changelog", "line 1\nEOF\nline 3");
        let delimiter = a.lines().next().unwrap().split_once("<<").unwrap().1;
        assert!(delimiter.starts_with("ghadelimiter_") && delimiter.len() == 13 + 32);
        assert_ne!(a.lines().next(), b.lines().next());
        assert!(a.ends_with(&format!("\nline 3\n{delimiter}\n")));
    }
}
