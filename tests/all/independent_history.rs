//! Differential test: the commits that belong to a package (those that change something in its
//! folder) against `git log -- <folder>`, on generated histories with branches and merges —
//! merges that only bring a branch in, and merges that change a package themselves (issue 20).

use serde_json::Value;

use crate::support::{TestRepo, tamma, text};

const FOLDERS: [&str; 3] = ["packages/a", "packages/b", "packages/c"];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Appends a unique line to a file in each chosen folder (or the root README), and commits. The
/// branch and main write different files, so merges never conflict.
fn change(repo: &TestRepo, rng: &mut Rng, step: usize, commit: bool) {
    let file = if repo.git(&["branch", "--show-current"]).trim() == "side" {
        "side.js"
    } else {
        "main.js"
    };
    let mut touched = false;
    for folder in FOLDERS {
        if rng.below(3) == 0 {
            repo.commit_file_line(&format!("{folder}/{file}"), &format!("// step {step}"));
            touched = true;
        }
    }
    if !touched {
        repo.commit_file_line(&format!("README-{file}"), &format!("step {step}"));
    }
    if commit {
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-q", "-m", &format!("fix: step {step}")]);
    }
}

impl TestRepo {
    fn commit_file_line(&self, file: &str, line: &str) {
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(line);
        text.push('\n');
        std::fs::write(&path, text).unwrap();
    }
}

/// A history of `steps` operations: commits on main or a branch, and merges of the branch.
fn history(seed: u64, steps: usize) -> TestRepo {
    let repo = TestRepo::new();
    let mut config = String::from("[release]\nmode = \"independent\"\n");
    for folder in FOLDERS {
        let name = folder.trim_start_matches("packages/");
        repo.write(
            &format!("{folder}/package.json"),
            &format!("{{\"name\": \"{name}\", \"version\": \"1.0.0\"}}\n"),
        );
        config.push_str(&format!("\n[[artifact]]\nkind = \"npm\"\npath = \"{folder}\"\n"));
    }
    repo.write(".github/tamma-release.toml", &config);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: start"]);
    let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
    let mut on_branch = false;
    for step in 0..steps {
        match rng.below(6) {
            0 if !on_branch => {
                repo.git(&["checkout", "-q", "-B", "side"]);
                on_branch = true;
            }
            1 if on_branch => {
                repo.git(&["checkout", "-q", "main"]);
                change(&repo, &mut rng, step, true);
                // Some merges change a package themselves (as a conflict resolution would).
                let evil = rng.below(3) == 0;
                repo.git(&["merge", "-q", "--no-ff", "--no-commit", "side"]);
                if evil {
                    change(&repo, &mut rng, step + 1000, false);
                    repo.git(&["add", "-A"]);
                }
                repo.git(&[
                    "commit",
                    "-q",
                    "--allow-empty",
                    "-m",
                    &format!("Merge branch 'side' (step {step})"),
                ]);
                on_branch = false;
            }
            _ => change(&repo, &mut rng, step, true),
        }
    }
    if on_branch {
        repo.git(&["checkout", "-q", "main"]);
        repo.git(&["merge", "-q", "--no-ff", "-m", "Merge branch 'side'", "side"]);
    }
    repo
}

#[test]
fn a_packages_commits_are_those_git_log_lists_for_its_folder() {
    let mut compared = 0;
    let mut merges_in = 0;
    for seed in 1..=12u64 {
        let repo = history(seed, 40);
        let root = repo.git(&["rev-list", "--max-parents=0", "HEAD"]).trim().to_string();
        for folder in FOLDERS {
            let name = folder.trim_start_matches("packages/");
            let out = tamma(&["changelog", "--package", name, "--format", "json", "--from", &root])
                .current_dir(repo.path())
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
            let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
            let mut ours: Vec<String> = answer["sections"][0]["commits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["sha"].as_str().unwrap().to_string())
                .collect();
            ours.sort();
            let listed = repo.git(&["log", "--format=%H", &format!("{root}..HEAD"), "--", folder]);
            let mut theirs: Vec<String> = listed.lines().map(str::to_string).collect();
            theirs.sort();
            assert_eq!(ours, theirs, "seed {seed}, {folder}");
            compared += theirs.len();
            merges_in += repo
                .git(&["log", "--merges", "--format=%H", &format!("{root}..HEAD"), "--", folder])
                .lines()
                .count();
        }
    }
    // The histories must hold what the rule is about: many commits, and merges that count.
    assert!(
        compared > 300 && merges_in > 3,
        "{compared} commits, {merges_in} merges compared"
    );
}
