//! Differential test: our bumps against the real node-semver (pinned in tests/node/package.json,
//! installed by scripts/test) over a grid of versions, kinds and preids, refusals included.

use std::path::Path;

use semver::Version;
use tamma_release::plan::bump::{Bump, inc_from};

const SCRIPT: &str = r#"
const semver = require('semver');
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(cases.map(([v, k, id, base]) => semver.inc(v, k, {}, id === null ? undefined : id, String(base)))));
"#;

#[test]
fn bumps_match_node_semver() {
    let node_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        node_dir.join("node_modules/semver/package.json").exists(),
        "node-semver is missing: run `npm ci` in tests/node (scripts/test does)"
    );
    let pres = [
        "",
        "0",
        "5",
        "alpha",
        "alpha.0",
        "alpha.3",
        "beta.1",
        "rc.0.beta",
        "alpha.beta",
        "1.alpha.2",
        "x.9.y",
        "dev.10",
    ];
    let kinds = [
        "major",
        "minor",
        "patch",
        "premajor",
        "preminor",
        "prepatch",
        "prerelease",
        "release",
    ];
    let preids: [Option<&str>; 12] = [
        None,
        Some("alpha"),
        Some("beta"),
        Some("rc"),
        Some("dev"),
        Some("alpha.1"),
        Some("1a"),
        Some("0"),
        Some("01"),
        Some("a..b"),
        Some("a_b"),
        Some("x.9"),
    ];
    let mut cases = Vec::new();
    for major in [0, 1, 2] {
        for minor in [0, 3] {
            for patch in [0, 5] {
                for pre in pres {
                    let version = if pre.is_empty() {
                        format!("{major}.{minor}.{patch}")
                    } else {
                        format!("{major}.{minor}.{patch}-{pre}")
                    };
                    for kind in kinds {
                        for preid in preids {
                            // node-semver's identifierBase: where a new prerelease counter starts.
                            for base in [0u64, 1] {
                                cases.push((version.clone(), kind, preid, base));
                            }
                        }
                    }
                }
            }
        }
    }
    let out = crate::support::node(&["-e", SCRIPT], serde_json::to_string(&cases).unwrap().as_bytes());
    let expected: Vec<Option<String>> = serde_json::from_slice(&out).unwrap();
    assert_eq!(expected.len(), cases.len());
    let mut mismatches = Vec::new();
    for ((version, kind, preid, base), node) in cases.iter().zip(&expected) {
        let Bump::Kind(kind_value) = Bump::parse("bump", kind).unwrap() else {
            unreachable!()
        };
        let ours = inc_from(&Version::parse(version).unwrap(), kind_value, *preid, *base)
            .ok()
            .map(|v| v.to_string());
        if &ours != node {
            mismatches.push(format!(
                "{version} {kind} {preid:?} base {base}: node {node:?}, ours {ours:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} differ:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches[..mismatches.len().min(20)].join("\n")
    );
}
