//! The user guide (docs/, an mdBook) builds without warnings from the README's sections, every
//! page it lists exists, and it documents every input and output.

use std::process::Command;

use crate::support::{root, text};

#[test]
fn the_user_guide_builds_from_the_readme_without_warnings() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::new("mdbook")
        .args(["build", "--dest-dir"])
        .arg(out_dir.path())
        .arg(root().join("docs"))
        .output()
        .expect("mdbook runs (scripts/test installs it: cargo install mdbook)");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(!stderr.contains("WARN") && !stderr.contains("ERROR"), "{stderr}");
    let summary = std::fs::read_to_string(root().join("docs/src/SUMMARY.md")).unwrap();
    let pages: Vec<&str> = summary
        .lines()
        .filter_map(|l| l.split_once("](").map(|(_, rest)| rest.trim_end_matches(')')))
        .collect();
    assert!(pages.len() >= 15, "{pages:?}");
    for page in pages {
        let html = std::fs::read_to_string(out_dir.path().join(page.replace(".md", ".html")))
            .unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(
            !html.contains("{{#include") && !html.contains("ANCHOR"),
            "{page} has an unresolved include"
        );
    }
    let reference = std::fs::read_to_string(out_dir.path().join("reference/inputs-outputs.html")).unwrap();
    for input in tamma_release::action::spec::INPUTS {
        assert!(
            reference.contains(&format!("<code>{}</code>", input.name)),
            "the guide lacks input {}",
            input.name
        );
    }
    for output in tamma_release::action::spec::OUTPUTS {
        assert!(
            reference.contains(&format!("<code>{}</code>", output.name)),
            "the guide lacks output {}",
            output.name
        );
    }
}
