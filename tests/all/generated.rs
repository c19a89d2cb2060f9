//! Files derived from code — action.yml, the README's input/output tables, the config schema —
//! must match what the code declares. `TAMMA_BLESS=1 cargo test` rewrites them.

use tamma_release::action::spec;
use tamma_release::config::Config;

use crate::support::root;

fn bless() -> bool {
    std::env::var_os("TAMMA_BLESS").is_some()
}

fn check_file(relative: &str, expected: &str) {
    let path = root().join(relative);
    if bless() {
        std::fs::write(&path, expected).unwrap();
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{relative} is stale; run `TAMMA_BLESS=1 cargo test --locked generated` and commit it"
    );
}

/// Replaces the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`.
fn with_section(text: &str, name: &str, body: &str) -> String {
    let start = format!("<!-- {name}:start -->\n");
    let end = format!("<!-- {name}:end -->");
    let from = text.find(&start).unwrap_or_else(|| panic!("README lacks {start}")) + start.len();
    let to = text.find(&end).unwrap_or_else(|| panic!("README lacks {end}"));
    format!("{}{body}{}", &text[..from], &text[to..])
}

#[test]
fn action_yml_is_current() {
    check_file("action.yml", &spec::render_action_yml());
}

#[test]
fn config_schema_is_current() {
    check_file("schema/tamma-release.schema.json", &Config::json_schema());
}

#[test]
fn readme_tables_match_action_yml() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let expected = with_section(&readme, "inputs", &spec::render_inputs_table());
    let expected = with_section(&expected, "outputs", &spec::render_outputs_table());
    check_file("README.md", &expected);
}

#[test]
fn config_schema_command_prints_the_committed_schema() {
    let out = crate::support::tamma(&["config", "schema"]).output().unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(root().join("schema/tamma-release.schema.json")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), committed);
    let schema: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(schema["properties"]["release"]["$ref"], "#/$defs/ReleaseConfig");
}

#[test]
fn action_yml_declares_every_binding_name() {
    let yml = std::fs::read_to_string(root().join("action.yml")).unwrap();
    for input in ["command", "dry-run", "github-token", "version", "config", "stages"] {
        assert!(yml.contains(&format!("\n  {input}:\n")), "input {input}");
    }
    for output in [
        "version",
        "tag",
        "previous-version",
        "prerelease",
        "release-url",
        "release-id",
        "changelog",
    ] {
        assert!(yml.contains(&format!("\n  {output}:\n")), "output {output}");
    }
    assert!(yml.contains("default: \"${{ github.token }}\""));
    assert!(yml.contains("using: \"docker\""));
}

/// The README's "run the main job" command, run as written (through the built binary rather than
/// `cargo run`, which would nest a build) in this very checkout.
#[test]
fn readme_main_command_works_here() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let command = readme
        .lines()
        .find(|l| l.starts_with("cargo run --locked -- "))
        .expect("README has the main-job command");
    let args: Vec<&str> = command
        .trim_start_matches("cargo run --locked -- ")
        .split_whitespace()
        .collect();
    assert!(args.contains(&"--dry-run"), "the main job is a dry run");
    let out = crate::support::tamma(&args).current_dir(root()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
