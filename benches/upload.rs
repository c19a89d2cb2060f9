//! Issue 19, target 4: uploading a 1 GiB release asset to the GitHub fake over loopback, side by
//! side with curl on the same endpoint of the same fake. `curl --data-binary @file` reads the file
//! into memory first and refuses one this big ("out of memory"), so the peer is the way curl
//! streams a file: `curl -X POST --upload-file FILE`.
//!
//! tamma-release runs as users run it, in a git repository whose only artifact is the file:
//! `release --stages build` stages it in dist/, then `release --stages publish` uploads it and
//! logs how long the upload request took; curl uploads the same staged file and reports its own
//! `time_total`. A freshly written file reads slower than one read before, so who goes first
//! alternates. Each upload gets a fresh fake, and GNU time gives the publishing run's peak RSS.
//!
//!     cargo bench --locked --bench upload        # BENCH_DIR (default /tmp/tamma-bench-files)
//!                                                # holds one-gib.bin from benches/make-files.py

#[allow(dead_code)]
#[path = "../tests/all/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::TestRepo;
use support::github::{FakeGitHub, FakeRelease, REPO, TOKEN};

const RUNS: usize = 8;
const MIB: f64 = 1024.0 * 1024.0;

fn main() {
    let file = input();
    let size = std::fs::metadata(&file).unwrap().len();
    let (mut ours, mut theirs, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..=RUNS {
        // Both upload the same staged file; who goes first alternates.
        let repo = stage(&file);
        let staged = repo.path().join("dist/big.bin");
        let ((took, kib), curl) = if run.is_multiple_of(2) {
            let curl = curl_upload(&staged);
            (publish(&repo), curl)
        } else {
            let ours = publish(&repo);
            (ours, curl_upload(&staged))
        };
        println!(
            "run {run}{}: tamma-release {:.3} s ({kib} KiB peak RSS), curl {:.3} s",
            if run == 0 { " (warm-up)" } else { "" },
            took.as_secs_f64(),
            curl.as_secs_f64()
        );
        if run > 0 {
            ours.push(took.as_secs_f64());
            theirs.push(curl.as_secs_f64());
            rss.push(kib);
        }
    }
    let (ours_mean, ours_sd) = mean_sd(&ours);
    let (curl_mean, curl_sd) = mean_sd(&theirs);
    let (ours_median, curl_median) = (median(&mut ours), median(&mut theirs));
    println!();
    let mib = size as f64 / MIB;
    println!("| Upload of {mib:.0} MiB over loopback ({RUNS} runs) | Mean | Median | Throughput (mean) |");
    println!("|:---|---:|---:|---:|");
    println!(
        "| tamma-release (the upload request of `release`) | {ours_mean:.3} s ± {ours_sd:.3} | {ours_median:.3} s | {:.0} MiB/s |",
        mib / ours_mean
    );
    println!(
        "| `curl -X POST --upload-file` (`time_total`) | {curl_mean:.3} s ± {curl_sd:.3} | {curl_median:.3} s | {:.0} MiB/s |",
        mib / curl_mean
    );
    println!();
    println!(
        "tamma-release at {:.0} % of curl's throughput by the means, {:.0} % by the medians; peak RSS of the publishing run {} KiB (the most of {RUNS} runs)",
        100.0 * curl_mean / ours_mean,
        100.0 * curl_median / ours_median,
        rss.iter().max().unwrap()
    );
}

/// `$BENCH_DIR/one-gib.bin`, written by benches/make-files.py when missing.
fn input() -> PathBuf {
    let dir = PathBuf::from(std::env::var("BENCH_DIR").unwrap_or_else(|_| "/tmp/tamma-bench-files".into()));
    let file = dir.join("one-gib.bin");
    if !file.exists() {
        let script = support::root().join("benches/make-files.py");
        let status = Command::new("python3").arg(script).arg(&dir).status().unwrap();
        assert!(status.success(), "benches/make-files.py failed");
    }
    file
}

/// A repository whose only artifact is `file` (hard-linked in, ignored by git), staged by
/// `release --stages build`: dist/ holds a copy of the file, written back to disk (`sync`), so
/// the uploads read a clean file and measure the network, not the disk.
fn stage(file: &Path) -> TestRepo {
    let repo = TestRepo::new();
    std::fs::hard_link(file, repo.path().join("big.bin")).unwrap();
    repo.write(".gitignore", "big.bin\ndist/\nrss.txt\n");
    repo.write(
        ".github/tamma-release.toml",
        "[github]\nwrite-interval = \"0s\"\n\n[[artifact]]\nkind = \"file\"\npath = \"big.bin\"\n",
    );
    repo.commit("a", "feat: big");
    let staged = Command::new(env!("CARGO_BIN_EXE_tamma-release"))
        .args(["release", "--version", "1.0.0", "--stages", "build"])
        .current_dir(repo.path())
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(
        staged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&staged.stderr)
    );
    assert!(Command::new("sync").status().unwrap().success());
    repo
}

/// `release --stages publish` of a staged repository to a fresh fake: how long its upload
/// request took, from its log, and the peak RSS of the run.
fn publish(repo: &TestRepo) -> (Duration, u64) {
    let fake = FakeGitHub::start();
    let rss_file = repo.path().join("rss.txt");
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&rss_file)
        .arg(env!("CARGO_BIN_EXE_tamma-release"))
        .args(["release", "--version", "1.0.0", "--stages", "publish"])
        .current_dir(repo.path())
        .env_clear()
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .output()
        .expect("GNU time runs (apt-get install time)");
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{log}");
    // "uploaded big.bin: 1024.0 MiB in 2.41 s (424.9 MiB/s)"
    let seconds: f64 = log
        .lines()
        .find_map(|line| line.split("uploaded big.bin: ").nth(1))
        .and_then(|rest| rest.split(" in ").nth(1))
        .and_then(|rest| rest.split(" s ").next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no upload rate in the log:\n{log}"));
    let kib = std::fs::read_to_string(&rss_file).unwrap().trim().parse().unwrap();
    (Duration::from_secs_f64(seconds), kib)
}

/// `curl -X POST --upload-file FILE` to the upload URL of a draft release on a fresh fake: curl's own
/// `time_total` (the request, from connect to the answer).
fn curl_upload(file: &Path) -> Duration {
    let fake = FakeGitHub::start();
    fake.with(|s| {
        s.releases.push(FakeRelease {
            id: 1,
            tag: "v1.0.0".into(),
            draft: true,
            prerelease: false,
            body: String::new(),
            assets: Vec::new(),
        })
    });
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}"])
        .args(["-H", "content-type: application/octet-stream"])
        .args(["-H", &format!("authorization: Bearer {TOKEN}")])
        .args(["-X", "POST", "--upload-file"])
        .arg(file)
        .arg(format!(
            "{}/uploads/repos/{REPO}/releases/1/assets?name=big.bin",
            fake.uri
        ))
        .output()
        .expect("curl runs (apt-get install curl)");
    let answer = String::from_utf8_lossy(&out.stdout);
    let (status, seconds) = answer.split_once(' ').unwrap_or_default();
    assert_eq!(status, "201", "curl: {answer} {}", String::from_utf8_lossy(&out.stderr));
    fake.with(|s| assert_eq!(s.releases[0].assets[0].size, std::fs::metadata(file).unwrap().len()));
    Duration::from_secs_f64(seconds.parse().unwrap())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

fn mean_sd(values: &[f64]) -> (f64, f64) {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() as f64 - 1.0).max(1.0);
    (mean, var.sqrt())
}
