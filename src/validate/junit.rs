//! Why this exists: test results arrive as JUnit XML from whatever runner the project uses; any
//! failure or error in them stops the release, and failures that carry a file and line become
//! annotations on that line.

use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::error::{Error, FileLocation, Result};
use crate::validate::Finding;

/// Counts from one or more reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestCounts {
    /// Test cases.
    pub tests: u64,
    /// Failed or errored.
    pub failed: u64,
    /// Skipped.
    pub skipped: u64,
}

/// Reads one JUnit XML report, adding to `counts` and `findings`.
pub fn read(path: &Path, shown: &str, counts: &mut TestCounts, findings: &mut Vec<Finding>) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = Reader::from_str(&text);
    let bad = |e: String| Error::input("[validate] tests", format!("{shown} is not a JUnit XML report: {e}"));
    let mut case: Option<(String, Option<String>, Option<usize>)> = None;
    let mut saw_root = false;
    loop {
        let event = reader.read_event().map_err(|e| bad(e.to_string()))?;
        let (start, is_empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(e) => {
                if e.name().as_ref() == "testcase" {
                    case = None;
                }
                (None, false)
            }
            Event::Eof => break,
            _ => (None, false),
        };
        let Some(element) = start else { continue };
        let attr = |name: &str| {
            element
                .attributes()
                .flatten()
                .find(|a| a.key.as_ref() == name)
                .map(|a| a.value.to_string())
        };
        match element.name().as_ref() {
            "testsuites" | "testsuite" => saw_root = true,
            "testcase" => {
                counts.tests += 1;
                let name = format!(
                    "{}{}",
                    attr("classname").map(|c| format!("{c}::")).unwrap_or_default(),
                    attr("name").unwrap_or_default()
                );
                let line = attr("line").and_then(|l| l.parse().ok());
                if !is_empty {
                    case = Some((name, attr("file"), line));
                }
            }
            "failure" | "error" => {
                counts.failed += 1;
                let (name, file, line) = case.clone().unwrap_or_default();
                let message = attr("message").unwrap_or_else(|| "failed".into());
                let location = match (file, line) {
                    (Some(file), line) => Some(FileLocation {
                        path: file.into(),
                        line: line.unwrap_or(1),
                        column: 1,
                    }),
                    _ => None,
                };
                findings.push(Finding {
                    message: format!("test {name} failed: {message}"),
                    location,
                });
            }
            "skipped" => counts.skipped += 1,
            _ => {}
        }
    }
    if !saw_root {
        return Err(bad("no <testsuite> or <testsuites> element".into()));
    }
    Ok(())
}
