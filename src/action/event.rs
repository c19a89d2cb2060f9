//! Why this exists: a `workflow_dispatch` run carries its form values in the event payload's
//! `inputs`, and those must override action inputs the workflow left empty.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};

/// The parts of the event payload we use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventPayload {
    /// `workflow_dispatch` inputs, as strings (booleans become `true`/`false`).
    pub dispatch_inputs: BTreeMap<String, String>,
}

impl EventPayload {
    /// Reads the payload file the runner wrote (`GITHUB_EVENT_PATH`).
    pub fn read(path: &Path) -> Result<EventPayload> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
            path: path.to_path_buf(),
            source,
        })?;
        EventPayload::parse(&text).map_err(|e| {
            Error::input(
                "GITHUB_EVENT_PATH",
                format!("{} is not a JSON event payload: {e}", path.display()),
            )
        })
    }

    /// Parses payload JSON.
    pub fn parse(text: &str) -> std::result::Result<EventPayload, serde_json::Error> {
        let value: serde_json::Value = serde_json::from_str(text)?;
        let mut dispatch_inputs = BTreeMap::new();
        if let Some(inputs) = value.get("inputs").and_then(|v| v.as_object()) {
            for (key, value) in inputs {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => continue,
                    other => other.to_string(),
                };
                dispatch_inputs.insert(key.clone(), text);
            }
        }
        Ok(EventPayload { dispatch_inputs })
    }

    /// The dispatch input for an action input name; `dry-run` also matches `dry_run`.
    pub fn dispatch_input(&self, name: &str) -> Option<&str> {
        let underscored = name.replace('-', "_");
        self.dispatch_inputs
            .get(name)
            .or_else(|| self.dispatch_inputs.get(&underscored))
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_inputs_are_strings() {
        let payload =
            EventPayload::parse(r#"{"inputs":{"version":"1.2.3","dry_run":true,"empty":""},"ref":"refs/heads/main"}"#)
                .unwrap();
        assert_eq!(payload.dispatch_input("version"), Some("1.2.3"));
        assert_eq!(payload.dispatch_input("dry-run"), Some("true"));
        assert_eq!(payload.dispatch_input("empty"), None);
        assert_eq!(payload.dispatch_input("command"), None);
    }

    #[test]
    fn push_payload_has_no_inputs() {
        let payload = EventPayload::parse(r#"{"ref":"refs/tags/v1.2.3","created":true}"#).unwrap();
        assert!(payload.dispatch_inputs.is_empty());
    }
}
