//! Differential test: which packages follow a release, and at which versions, against changesets'
//! own `@changesets/assemble-release-plan` (pinned in tests/node/package.json, installed by
//! scripts/test), on generated dependency graphs and bump sets (issue 20).

use std::collections::BTreeMap;
use std::path::Path;

use semver::Version;
use serde_json::{Value, json};
use tamma_release::config::BumpLevel;
use tamma_release::packages::assemble::{Ask, Edge, Node, assemble};
use tamma_release::plan::bump::{BumpKind, inc};

/// A small deterministic generator (xorshift), so a failing case can be reproduced by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const TABLES: [&str; 4] = [
    "dependencies",
    "optionalDependencies",
    "peerDependencies",
    "devDependencies",
];
const LEVELS: [(&str, BumpLevel); 3] = [
    ("patch", BumpLevel::Patch),
    ("minor", BumpLevel::Minor),
    ("major", BumpLevel::Major),
];

/// A range on a package at `version` that includes it (changesets refuses a graph whose ranges
/// leave the current version).
fn range_on(rng: &mut Rng, version: &Version) -> String {
    let v = version.to_string();
    match rng.below(8) {
        0 => "workspace:*".into(),
        1 => "workspace:^".into(),
        2 => "workspace:~".into(),
        3 => format!("^{v}"),
        4 => format!("~{v}"),
        5 => v,
        6 => format!(">={}.0.0", version.major),
        _ => format!("workspace:^{v}"),
    }
}

/// One generated case: the graph (packages depend only on earlier ones) and the bumps asked.
fn case(seed: u64) -> (Vec<Node>, Vec<(String, BumpLevel, &'static str)>) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let count = 2 + rng.below(6);
    let mut nodes: Vec<Node> = Vec::new();
    for index in 0..count {
        let version = Version::new(rng.below(3) as u64, rng.below(4) as u64, rng.below(3) as u64);
        let mut deps = Vec::new();
        for earlier in nodes.iter() {
            if rng.below(3) == 0 {
                deps.push(Edge {
                    on: earlier.name.clone(),
                    table: rng.pick(&TABLES).to_string(),
                    range: range_on(&mut rng, &earlier.version),
                });
            }
        }
        nodes.push(Node {
            name: format!("pkg-{index}"),
            version,
            deps,
        });
    }
    let mut asked: Vec<(String, BumpLevel, &'static str)> = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let name = rng.pick(&nodes).name.clone();
        let (word, level) = *rng.pick(&LEVELS);
        if !asked.iter().any(|(n, ..)| *n == name) {
            asked.push((name, level, word));
        }
    }
    (nodes, asked)
}

fn ours(nodes: &[Node], asked: &[(String, BumpLevel, &str)]) -> Vec<(String, String)> {
    let asked: BTreeMap<String, Ask> = asked.iter().map(|(n, l, _)| (n.clone(), Ask::Level(*l))).collect();
    let next = |node: &Node, level: BumpLevel| {
        let kind = match level {
            BumpLevel::Major => BumpKind::Major,
            BumpLevel::Minor => BumpKind::Minor,
            _ => BumpKind::Patch,
        };
        inc(&node.version, kind, None)
    };
    let mut out: Vec<(String, String)> = assemble(nodes, &asked, BumpLevel::Patch, &next)
        .unwrap()
        .into_iter()
        .map(|r| (r.name, r.to.to_string()))
        .collect();
    out.sort();
    out
}

fn as_changesets_input(nodes: &[Node], asked: &[(String, BumpLevel, &str)]) -> Value {
    let packages: Vec<Value> = nodes
        .iter()
        .map(|n| {
            let mut manifest = json!({"name": n.name, "version": n.version.to_string()});
            for edge in &n.deps {
                manifest[&edge.table][&edge.on] = json!(edge.range);
            }
            manifest
        })
        .collect();
    let releases: Vec<Value> = asked.iter().map(|(n, _, w)| json!({"name": n, "type": w})).collect();
    json!({"packages": packages, "releases": releases})
}

#[test]
fn dependents_follow_as_changesets_assembles_them() {
    let node_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        node_dir
            .join("node_modules/@changesets/assemble-release-plan/package.json")
            .exists(),
        "@changesets/assemble-release-plan is missing: run `npm ci` in tests/node (scripts/test does)"
    );
    let cases: Vec<_> = (1..=1000u64).map(|seed| (seed, case(seed))).collect();
    let input = Value::Array(cases.iter().map(|(_, (n, a))| as_changesets_input(n, a)).collect());
    let out = crate::support::node(&["assemble-release-plan.mjs"], input.to_string().as_bytes());
    let theirs: Vec<Vec<Value>> = serde_json::from_slice(&out).unwrap();
    let mut followed = 0;
    for ((seed, (nodes, asked)), theirs) in cases.iter().zip(theirs) {
        let mut theirs: Vec<(String, String)> = theirs
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_string(),
                    r["newVersion"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        theirs.sort();
        let ours = ours(nodes, asked);
        followed += ours.len() - asked.len();
        assert_eq!(ours, theirs, "seed {seed}: graph {:#?}, asked {asked:?}", nodes);
    }
    // The generator must exercise the rule, not only trivial graphs.
    assert!(followed > 100, "only {followed} dependents followed across the cases");
}
