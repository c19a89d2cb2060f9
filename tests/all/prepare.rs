//! The prepare stage: version files and the changelog file, in real repositories.

use crate::support::{TestRepo, json_of, tamma, text};

fn monorepo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("package.json", "{\n  \"name\": \"acme\",\n  \"private\": true,\n  \"version\": \"1.0.0\",\n  \"workspaces\": [\"packages/*\"]\n}\n");
    repo.write("packages/cli/package.json", "{\n    \"name\": \"@acme/cli\",\n    \"version\": \"1.0.0\",\n    \"dependencies\": { \"@acme/shared\": \"^1.0.0\" }\n}\n");
    repo.write(
        "packages/shared/package.json",
        "{\n    \"name\": \"@acme/shared\",\n    \"version\": \"1.0.0\"\n}\n",
    );
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"acme-native\"\nversion = \"1.0.0\"  # kept in step with npm\nedition = \"2024\"\n",
    );
    repo.write("src/version.txt", "acme version 1.0.0 (stable)\n");
    repo.write("CHANGELOG.md", "# Changelog\n\n## 1.0.0\n\n- first\n");
    repo.write(
        ".github/tamma-release.toml",
        "[version]\nfiles = [\"package.json\", \"Cargo.toml\", { path = \"src/version.txt\", pattern = 'acme version (\\S+)' }]\nchangelog = \"CHANGELOG.md\"\n",
    );
    repo.commit("README.md", "feat: base");
    repo.git(&["tag", "v1.0.0"]);
    repo.commit("README.md", "feat(cli): more");
    repo
}

#[test]
fn dry_run_lists_the_edits_and_writes_nothing() {
    let repo = monorepo();
    let report = json_of(repo.path(), &["release", "--dry-run", "--bump", "auto", "--json"]);
    let steps: Vec<String> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["target"] == "workspace")
        .map(|s| s["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        steps,
        [
            "update package.json: version → 1.1.0",
            "update packages/cli/package.json: version → 1.1.0, dependencies.@acme/shared → ^1.1.0",
            "update packages/shared/package.json: version → 1.1.0",
            "update Cargo.toml: package.version → 1.1.0",
            "update src/version.txt: 1 match(es) of \"acme version (\\\\S+)\" → 1.1.0",
            "update CHANGELOG.md: prepend the 1.1.0 section",
        ]
    );
    assert!(
        repo.git(&["status", "--porcelain"]).is_empty(),
        "a dry run writes nothing"
    );
}

#[test]
fn prepare_writes_only_the_changed_bytes() {
    let repo = monorepo();
    let out = tamma(&["release", "--version", "1.1.0", "--stages", "prepare"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let diff = repo.git(&[
        "diff",
        "--unified=0",
        "--",
        "packages/cli/package.json",
        "Cargo.toml",
        "src/version.txt",
    ]);
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    assert_eq!(
        changed,
        [
            "+version = \"1.1.0\"  # kept in step with npm",
            "+    \"version\": \"1.1.0\",",
            "+    \"dependencies\": { \"@acme/shared\": \"^1.1.0\" }",
            "+acme version 1.1.0 (stable)",
        ]
    );
    let changelog = std::fs::read_to_string(repo.path().join("CHANGELOG.md")).unwrap();
    assert!(
        changelog.starts_with("# Changelog\n\n## 1.1.0 (2026-01-01)\n\n### Features\n\n- **cli:** more ("),
        "{changelog}"
    );
    assert!(changelog.ends_with("## 1.0.0\n\n- first\n"));
    // A re-run finds nothing left to change.
    let out = tamma(&["release", "--version", "1.1.0", "--stages", "prepare", "--json"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["steps"], serde_json::json!([]));
}

#[test]
fn missing_or_escaping_version_files_are_usage_errors() {
    let cases = [
        ("[version]\nfiles = [\"packages/nope/package.json\"]\n", "cannot read"),
        ("[version]\nfiles = [\"../package.json\"]\n", "leaves the repository"),
        (
            "[version]\nfiles = [\"setup.py\"]\n",
            "neither package.json nor Cargo.toml",
        ),
    ];
    for (config, expected) in cases {
        let repo = monorepo();
        repo.write(".github/tamma-release.toml", config);
        let out = tamma(&["release", "--dry-run", "--version", "1.1.0"])
            .current_dir(repo.path())
            .output()
            .unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{config}: {stderr}");
        assert!(stderr.contains(expected), "{config}: {stderr}");
    }
}

/// The release binary carries regex's Perl classes and case folding but not the Unicode property
/// tables (issue 19's image size): `\d` and `(?i)` work in a version pattern, and a pattern
/// without exactly one group or that does not parse is a usage error. (`\p{..}` cannot be seen
/// failing here: under `cargo test` the dev-dependencies switch regex's Unicode tables back on.)
#[test]
fn version_patterns_take_perl_classes_and_case_folding_and_name_what_is_missing() {
    let repo = monorepo();
    repo.write(
        ".github/tamma-release.toml",
        "[version]\nfiles = [{ path = \"src/version.txt\", pattern = '(?i)ACME VERSION (\\d+\\.\\d+\\.\\d+)' }]\n",
    );
    let out = tamma(&["release", "--version", "1.1.0", "--stages", "prepare"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert_eq!(
        std::fs::read_to_string(repo.path().join("src/version.txt")).unwrap(),
        "acme version 1.1.0 (stable)\n"
    );
    let cases = [
        ("acme version \\S+", "exactly one capture group"),
        ("acme version ((\\S+)", "is not a regular expression"),
    ];
    for (pattern, expected) in cases {
        repo.write(
            ".github/tamma-release.toml",
            &format!("[version]\nfiles = [{{ path = \"src/version.txt\", pattern = '{pattern}' }}]\n"),
        );
        let out = tamma(&["release", "--dry-run", "--version", "1.2.0"])
            .current_dir(repo.path())
            .output()
            .unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{pattern}: {stderr}");
        assert!(stderr.contains(expected), "{pattern}: {stderr}");
    }
}
