//! No panic on any input: property tests over everything that reads text a user, a repository or
//! a server controls — the config loader, the commit parser, version parsing and bumping, the
//! journal reader (and its scope check), `$GITHUB_OUTPUT` writing (read back by a port of the
//! runner's parser), partial manifests, URL redaction, durations, `Retry-After`, image
//! references and ref names. Bounded: `TAMMA_FUZZ_CASES` cases per property (default 2,000), so
//! `scripts/test` runs them in seconds; set it higher to search longer.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config as Runner, FileFailurePersistence};

use tamma_release::config::Config;

fn runner() -> Runner {
    let cases = std::env::var("TAMMA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    Runner {
        cases,
        // A failing case is kept in tests/proptest-regressions/fuzz.txt and replayed first.
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel("proptest-regressions"))),
        ..Runner::default()
    }
}

/// Text that is mostly made of the pieces the parser cares about, so it gets past the first
/// check often, plus anything at all.
fn near(pieces: &'static [&'static str]) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(pieces).prop_map(str::to_string),
        1 => any::<String>(),
        1 => "[0-9]{1,25}",
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|parts| parts.concat())
}

const TOML_PIECES: &[&str] = &[
    "\n",
    "[release]\n",
    "[[artifact]]\n",
    "[github]\n",
    "[version]\n",
    "[commits]\n",
    "[commits.types.x]\n",
    "[deploy.docs]\n",
    "[deploy.staging]\n",
    "[validate]\n",
    "[[validate.audit]]\n",
    "[validate.bench]\n",
    "[npm]\n",
    "[image]\n",
    "[notify]\n",
    "name = ",
    "kind = ",
    "\"archive\"",
    "\"file\"",
    "\"npm\"",
    "\"image\"",
    "\"docs\"",
    "path = ",
    "files = ",
    "image = ",
    "timeout = ",
    "retry-wait = ",
    "write-interval = ",
    "lock-wait = ",
    "tag-prefix = ",
    "initial-version = ",
    "floating-tags = ",
    "action-image = ",
    "branch = ",
    "webhook = ",
    "url = ",
    "smoke = ",
    "pattern = ",
    "registry = ",
    "pass-env = ",
    "\"x.tar.gz\"",
    "\"../x\"",
    "\"/abs\"",
    "\"a\\u0000b\"",
    "\"1h\"",
    "\"18446744073709551615s\"",
    "\"v{major}\"",
    "[\"a\", \"b\"]",
    "{ path = \"p\", pattern = \"(.*)\" }",
    "{ url = \"http://x\" }",
    "'",
    "\"",
    "= ",
    "true",
    "-1",
    "1e999",
    "\"ghcr.io/a/b\"",
    "\"http://u:p@h/?q\"",
    "\"(\"",
    "\"((a)(b))\"",
];

const COMMIT_PIECES: &[&str] = &[
    "feat",
    "fix",
    "perf",
    "revert",
    "docs",
    "chore",
    "(",
    ")",
    "!",
    ": ",
    ":",
    "\n",
    "\n\n",
    "\r\n",
    "BREAKING CHANGE: ",
    "BREAKING-CHANGE: ",
    "Refs: #",
    "Merge pull request #",
    "Merge branch ",
    "(#",
    "This reverts commit ",
    "0123456789abcdef",
    " ",
    "scope",
    "ü",
    "#",
    "-",
    "token #1",
];

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

proptest! {
    #![proptest_config(runner())]

    #[test]
    fn config_loader(text in prop_oneof![near(TOML_PIECES), any::<String>()]) {
        if let Ok(config) = Config::parse(&text, Path::new("c.toml")) {
            // Whatever loads must serialize again (the schema and --json depend on it).
            prop_assert!(toml::to_string(&config).is_ok() || !config.artifacts.is_empty());
        }
    }

    #[test]
    fn commit_parser(message in prop_oneof![near(COMMIT_PIECES), any::<String>()]) {
        let parsed = tamma_release::plan::commits::parse(&message);
        prop_assert!(parsed.kind.as_deref().is_none_or(|k| !k.is_empty()));
    }

    #[test]
    fn versions_parse_and_bump(
        text in prop_oneof!["(0|[1-9][0-9]{0,19})\\.(0|[1-9][0-9]{0,19})\\.(0|[1-9][0-9]{0,19})(-[0-9A-Za-z.-]{1,20})?(\\+[0-9A-Za-z.-]{1,10})?", any::<String>()],
        prefix in "(v|cli-v|)",
        kind in proptest::sample::select(tamma_release::plan::bump::BUMP_NAMES),
        preid in proptest::option::of(prop_oneof!["(alpha|beta|rc|next|0|01|a.b|[a-z]{1,4})", any::<String>()]),
    ) {
        let _ = tamma_release::plan::version::version_from_tag(&format!("{prefix}{text}"), &prefix);
        let _ = tamma_release::plan::version::release_version_of(&format!("{prefix}{text}"), &prefix);
        if let Ok(version) = tamma_release::plan::version::parse_version("version", &text) {
            let bump = tamma_release::plan::bump::Bump::parse("bump", kind).unwrap();
            if let Ok(next) = tamma_release::plan::bump::apply(&version, bump, preid.as_deref()) {
                prop_assert!(next.cmp_precedence(&version).is_gt() || kind == "release" || !version.pre.is_empty(), "{version} {kind} → {next}");
            }
        }
    }

    #[test]
    fn journal_reader(
        bytes in prop_oneof![
            any::<Vec<u8>>(),
            near(&["{", "}", "[", "]", ",", ":", "\"format\"", "1", "99", "\"version\"", "\"1.0.0\"", "\"tag\"", "\"v1.0.0\"",
                   "\"commit\"", "\"prerelease\"", "false", "\"runs\"", "\"steps\"", "\"deployments\"", "\"phase\"",
                   "\"flip\"", "\"target\"", "\"action\"", "\"pointer\"", "\"kind\"", "\"npm-tag\"", "\"image-tag\"",
                   "\"branch\"", "\"git-tag\"", "\"github-latest\"", "\"registry\"", "\"package\"", "\"repository\"",
                   "\"before\"", "\"after\"", "\"at\"", "\"outcome\"", "\"done\"", "\"intended\"", "null", "\"../..\""])
                .prop_map(String::into_bytes),
        ],
    ) {
        if let Ok(journal) = tamma_release::txn::journal::Journal::parse(&bytes, "fuzz") {
            let scope = tamma_release::txn::scope::Scope {
                npm: vec![("https://registry.npmjs.org".into(), "@acme/cli".into())],
                images: vec![("ghcr.io".into(), "acme/widget".into())],
                branch: Some("gh-pages".into()),
                floating: vec!["v{major}".into(), "v{major}.{minor}".into()],
            };
            let _ = scope.check(&journal, "v1.0.0", "v", "fuzz");
            for (pointer, ..) in journal.flips() {
                let _ = journal.open_flip(&pointer);
                let _ = pointer.name();
            }
        }
    }

    #[test]
    fn github_output_round_trips(value in any::<String>(), name in proptest::sample::select(tamma_release::action::spec::OUTPUTS.iter().map(|o| o.name).collect::<Vec<_>>())) {
        let written = tamma_release::action::outputs::format_output(name, &value);
        let read = crate::support::runner::parse_file_command(&written);
        prop_assert_eq!(read.as_ref().map(|m| m.get(name).cloned()), Ok(Some(value.clone())), "{:?}", written);
    }

    #[test]
    fn partial_manifests(
        text in prop_oneof![
            any::<String>(),
            (
                "(archive|file|npm|image|docs|checksums|[a-z]{0,5})",
                prop_oneof!["[a-z.-]{1,12}", any::<String>(), Just("../../x".to_string()), Just("release-plan.json".to_string())],
                proptest::option::of(prop_oneof!["[a-z.-]{1,12}", any::<String>(), Just("../../etc/passwd".to_string()), Just("/etc/passwd".to_string())]),
                "[0-9a-f]{0,64}",
                any::<u64>(),
            )
                .prop_map(|(kind, name, path, sha, size)| serde_json::json!({
                    "schema-version": 1, "version": "1.0.0", "tag": "v1.0.0", "commit": "c", "partial": "x",
                    "artifacts": [{"name": name, "kind": kind, "path": path, "size": size, "sha256": sha,
                                   "platform": null, "arch": null, "media-type": "application/gzip"}]
                }).to_string()),
        ],
    ) {
        let dir = tempfile::tempdir().unwrap();
        write_temp(dir.path(), "partial-x.json", text.as_bytes());
        write_temp(dir.path(), "x.tar.gz", b"x");
        let _ = tamma_release::build::manifest::merge(&[dir.path().to_path_buf()], "1.0.0");
    }

    #[test]
    fn urls_durations_retry_after_references_and_refs(text in prop_oneof![near(&["://", "http", "s", "@", ":", "/", "?", "#", "=", "&", " ", "(", ")", "ü", "%", "[", "]"]), any::<String>()]) {
        let redacted = tamma_release::redact::urls(&text);
        prop_assert!(!redacted.contains("://") || text.contains("://"));
        let _ = tamma_release::redact::registry_url(&text);
        let _ = tamma_release::build::command::parse_duration("k", &text);
        let _ = tamma_release::http::retry_after(&text);
        let _ = tamma_release::targets::oci::parse_reference(&text);
        let _ = tamma_release::targets::github::client::encode_ref(&text);
        let _ = tamma_release::config::asset_name_problem(&text);
        let _ = tamma_release::build::npm_pack::check_package_name(&text, Path::new("package.json"));
    }
}
