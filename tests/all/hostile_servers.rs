//! Every server answer is untrusted: a registry must not receive another registry's token, a
//! `retry-after` must not stall the job for hours, an error page must not fill the memory, an
//! empty 200 is not the user's mistake, and lists have more than one page (issue 14).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Output;
use std::time::{Duration, Instant};

use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

use crate::support::github::{FakeGitHub, Fault, REPO};
use crate::support::mock::MockHttp;
use crate::support::{TestRepo, text};

/// A repository releasing one file, with fast retries so fault tests do not wait.
fn project(extra: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\n");
    repo.write("README.md", "# widget\n");
    repo.write(
        ".github/tamma-release.toml",
        &format!(
            "[github]\nwrite-interval = \"0s\"\nretry-wait = \"10ms\"\n\n[[artifact]]\nkind = \"file\"\npath = \"README.md\"\n{extra}"
        ),
    );
    repo.commit("a", "feat: widget");
    repo
}

fn release(repo: &TestRepo, fake: &FakeGitHub, args: &[&str]) -> Output {
    fake.release(repo.path(), args)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "4242")
        .output()
        .unwrap()
}

#[test]
fn a_retry_after_longer_than_the_cap_fails_at_once_naming_the_wait_and_the_run() {
    let repo = project("");
    let far = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(7200));
    for (asked, shown) in [
        ("3600".to_string(), "asks to wait 3600 s"),
        (
            "99999999999999999999999".to_string(),
            "asks to wait 18446744073709551615 s",
        ),
        (far, "asks to wait 7"),
    ] {
        let fake = FakeGitHub::start();
        fake.inject(
            Fault::Answer {
                method: "GET",
                path: "/git/ref/tags/",
                status: 403,
                headers: vec![("retry-after", asked.clone())],
                body: "{\"message\": \"You have exceeded a secondary rate limit.\"}",
            },
            1,
        );
        let started = Instant::now();
        let out = release(&repo, &fake, &["--version", "1.0.0"]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{asked}: {stderr}");
        assert!(started.elapsed() < Duration::from_secs(30), "{asked}: it did not wait");
        assert!(
            stderr.contains(shown) && stderr.contains("longer than this run waits (300 s)"),
            "{asked}: {stderr}"
        );
        assert!(
            stderr.contains("re-run https://github.com/acme/widget/actions/runs/4242"),
            "{stderr}"
        );
        fake.with(|s| assert_eq!(s.writes(), 0, "nothing was published: {:?}", s.log));
    }
    // A wait within the cap is waited out, and the release goes on.
    let fake = FakeGitHub::start();
    fake.inject(
        Fault::RetryAfter {
            method: "GET",
            path: "/git/ref/tags/",
            seconds: 1,
        },
        1,
    );
    let out = release(&repo, &fake, &["--version", "1.0.0"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
}

/// A server that answers every request with `status` and a body of `size` bytes, streamed
/// (with a `content-length`, or chunked when `declare` is false), until the client hangs up.
fn huge_answer_server(status: &'static str, size: u64, declare: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let mut stream = stream;
                let length = if declare {
                    format!("content-length: {size}")
                } else {
                    "transfer-encoding: chunked".to_string()
                };
                let head = format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{length}\r\n\r\n");
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = vec![b' '; 1 << 20];
                let mut sent = 0;
                while sent < size {
                    let written = if declare {
                        stream.write_all(&chunk)
                    } else {
                        stream
                            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                            .and_then(|()| stream.write_all(&chunk))
                            .and_then(|()| stream.write_all(b"\r\n"))
                    };
                    if written.is_err() {
                        return;
                    }
                    sent += chunk.len() as u64;
                }
            });
        }
    });
    format!("http://{address}")
}

/// Max RSS in KiB of the binary releasing against the API at `api`, and its output.
fn rss_of_release(repo: &TestRepo, api: &str) -> (u64, Output) {
    let out = std::process::Command::new("/usr/bin/time")
        .args(["-f", "max-rss-kib=%M"])
        .arg(env!("CARGO_BIN_EXE_tamma-release"))
        .args(["release", "--version", "1.0.0"])
        .current_dir(repo.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITHUB_API_URL", api)
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_TOKEN", crate::support::github::TOKEN)
        .output()
        .expect("/usr/bin/time runs (scripts/test installs Debian's time)");
    let (_, stderr) = text(&out);
    let rss = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("max-rss-kib="))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no RSS in: {stderr}"));
    (rss, out)
}

#[test]
fn a_gigabyte_answer_is_not_read_into_memory() {
    let repo = project("");
    for (status, declare) in [("500 Internal Server Error", true), ("200 OK", true), ("200 OK", false)] {
        let api = huge_answer_server(status, 1536 << 20, declare);
        let started = Instant::now();
        let (rss, out) = rss_of_release(&repo, &api);
        let (_, stderr) = text(&out);
        eprintln!("{status} (content-length given: {declare}): {rss} KiB resident at most");
        assert_eq!(out.status.code(), Some(1), "{status} (declared {declare}): {stderr}");
        assert!(rss < 100 * 1024, "{status} (declared {declare}): {rss} KiB resident");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{status}: it did not read it all"
        );
    }
}

#[test]
fn an_empty_or_misshapen_200_is_a_server_fault_retried_then_named() {
    let repo = project("");
    // Once: the read is retried and the release goes on.
    let fake = FakeGitHub::start();
    fake.inject(
        Fault::Answer {
            method: "GET",
            path: "/git/ref/tags/",
            status: 200,
            headers: vec![],
            body: "",
        },
        1,
    );
    let out = release(&repo, &fake, &["--version", "1.0.0"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    // Every time: exit 1 naming the endpoint, never "the tag points at ," (exit 2).
    for body in [
        "",
        "{\"object\": {}}",
        "{\"object\": {\"sha\": \"../x\", \"type\": \"commit\"}}",
        "<html>",
    ] {
        let fake = FakeGitHub::start();
        fake.inject(
            Fault::Answer {
                method: "GET",
                path: "/git/ref/tags/",
                status: 200,
                headers: vec![],
                body,
            },
            5,
        );
        let out = release(&repo, &fake, &["--version", "1.1.0"]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{body:?}: {stderr}");
        assert!(
            stderr.contains("GitHub answered GET /repos/acme/widget/git/ref/tags/v1.1.0 with something that is not the expected JSON")
                && stderr.contains("5 times"),
            "{body:?}: {stderr}"
        );
        assert!(!stderr.contains("points at"), "{stderr}");
        fake.with(|s| assert_eq!(s.writes(), 0, "{:?}", s.log));
    }
}

#[test]
fn a_release_with_more_than_a_hundred_assets_resumes() {
    let repo = TestRepo::new();
    repo.write(".gitignore", "dist/\n");
    let mut config = String::from("[github]\nwrite-interval = \"0s\"\nretry-wait = \"10ms\"\n");
    for i in 0..105 {
        repo.write(&format!("files/part-{i:03}.txt"), &format!("part {i}\n"));
        config.push_str(&format!(
            "\n[[artifact]]\nkind = \"file\"\npath = \"files/part-{i:03}.txt\"\n"
        ));
    }
    repo.write(".github/tamma-release.toml", &config);
    repo.commit("a", "feat: many files");
    let fake = FakeGitHub::start();
    // Every asset goes up, then creating the lock fails: the run stops with a full draft.
    fake.inject(
        Fault::Status {
            method: "POST",
            path: "/git/refs",
            status: 500,
        },
        1,
    );
    let out = release(&repo, &fake, &["--version", "1.0.0"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out).1);
    let (uploads_first, assets) = fake.with(|s| {
        let uploads = s
            .log
            .iter()
            .filter(|(m, p)| m == "POST" && p.starts_with("/uploads/"))
            .count();
        (uploads, s.releases[0].assets.len())
    });
    assert!(
        assets >= 107,
        "105 files, SHA256SUMS and the plan are on the draft: {assets}"
    );
    // The re-run reads every page of assets: nothing is uploaded twice, the release is published.
    let out = release(&repo, &fake, &["--version", "1.0.0"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    fake.with(|s| {
        let uploads = s
            .log
            .iter()
            .filter(|(m, p)| m == "POST" && p.starts_with("/uploads/"))
            .count();
        assert!(
            uploads - uploads_first <= 1,
            "only the journal may go up again: {}",
            uploads - uploads_first
        );
        let release = &s.releases[0];
        assert!(!release.draft, "published");
        let mut names: Vec<&str> = release.assets.iter().map(|a| a.name.as_str()).collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "no asset twice");
    });
}

/// A registry behind Bearer tokens whose token service hands `token` out — for the credentials
/// `ci:s3cret` when `needs_credentials`, to anyone otherwise — and records every request.
struct ScopedRegistry {
    http: MockHttp,
}

impl ScopedRegistry {
    fn start(token: &str, needs_credentials: bool, manifest: Vec<u8>) -> ScopedRegistry {
        let http = MockHttp::start();
        let uri = http.uri();
        let challenge =
            format!(r#"Bearer realm="{uri}/token",service="test",scope="repository:acme/widget:pull,push""#);
        let bearer = format!("Bearer {token}");
        let token_answer = ResponseTemplate::new(200).set_body_json(serde_json::json!({ "token": token }));
        if needs_credentials {
            http.mount(
                Mock::given(method("GET"))
                    .and(path("/token"))
                    .and(header("authorization", "Basic Y2k6czNjcmV0"))
                    .respond_with(token_answer),
            );
            http.mount(Mock::given(path("/token")).respond_with(ResponseTemplate::new(401)));
        } else {
            http.mount(Mock::given(path("/token")).respond_with(token_answer));
        }
        http.mount(
            Mock::given(method("HEAD"))
                .and(path_regex("/v2/acme/widget/blobs/.*"))
                .and(header("authorization", bearer.as_str()))
                .respond_with(ResponseTemplate::new(200)),
        );
        let tagged = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::<String>::new()));
        http.mount(
            Mock::given(path_regex("^/v2/acme/widget/manifests/"))
                .and(header("authorization", bearer.as_str()))
                .respond_with(TaggedManifest(manifest, tagged)),
        );
        http.mount(
            Mock::given(path_regex("/v2/.*"))
                .respond_with(ResponseTemplate::new(401).insert_header("www-authenticate", challenge.as_str())),
        );
        ScopedRegistry { http }
    }

    fn host(&self) -> String {
        self.http.uri().trim_start_matches("http://").to_string()
    }

    /// Every `authorization` header this registry (and its token service) received.
    fn authorizations(&self) -> Vec<String> {
        self.http
            .requests()
            .iter()
            .filter_map(|r| {
                r.headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })
            .collect()
    }
}

/// Serves one manifest under every name that was PUT (404 before), as a registry does.
struct TaggedManifest(
    Vec<u8>,
    std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>,
);

impl wiremock::Respond for TaggedManifest {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let name = request.url.path().rsplit('/').next().unwrap_or_default().to_string();
        let mut tagged = self.1.lock().unwrap();
        match request.method.as_str() {
            "PUT" => {
                tagged.insert(name);
                ResponseTemplate::new(201)
            }
            _ if !tagged.contains(&name) && !name.starts_with("sha256:") => ResponseTemplate::new(404),
            _ => ResponseTemplate::new(200)
                .insert_header("content-type", "application/vnd.oci.image.manifest.v1+json")
                .set_body_bytes(self.0.clone()),
        }
    }
}

#[test]
fn registry_credentials_and_tokens_go_only_where_they_were_issued() {
    let repo = TestRepo::new();
    let digest =
        tamma_release::build::oci::write_test_layout(&repo.path().join("image"), "hello.txt", b"hello\n").unwrap();
    let manifest = std::fs::read(
        repo.path()
            .join("image/blobs/sha256")
            .join(digest.trim_start_matches("sha256:")),
    )
    .unwrap();
    let ours = ScopedRegistry::start("token-for-ours", true, manifest.clone());
    let other = ScopedRegistry::start("token-for-other", false, manifest);
    let images = |registry: &str| {
        format!(
            "[[artifact]]\nkind = \"image\"\nimage = \"{}/acme/widget\"\noci-layout = \"image\"\n\n[[artifact]]\nkind = \"image\"\nimage = \"{}/acme/widget\"\noci-layout = \"image\"\n{registry}",
            ours.host(),
            other.host()
        )
    };
    repo.write(
        ".github/tamma-release.toml",
        &format!("[github]\nwrite-interval = \"0s\"\n\n{}", images("")),
    );
    repo.commit("a", "feat: images");
    let fake = FakeGitHub::start();
    let run = || {
        fake.release(repo.path(), &["--version", "1.0.0"])
            .env("REGISTRY_USERNAME", "ci")
            .env("REGISTRY_PASSWORD", "s3cret")
            .output()
            .unwrap()
    };
    // Two registries, one set of credentials: which registry they are for must be said, and until
    // it is, neither registry hears from us.
    let out = run();
    let (_, stderr) = text(&out);
    assert!(
        other
            .authorizations()
            .iter()
            .all(|a| a != "Basic Y2k6czNjcmV0" && !a.starts_with("Bearer")),
        "the other registry got our credentials or a token: {:?}",
        other.authorizations()
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("[image] registry"), "{stderr}");
    assert!(ours.authorizations().is_empty() && other.authorizations().is_empty());
    repo.write(
        ".github/tamma-release.toml",
        &format!(
            "[github]\nwrite-interval = \"0s\"\n\n[image]\nregistry = \"{}\"\n\n{}",
            ours.host(),
            images("")
        ),
    );
    repo.commit("b", "fix: say which registry");
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let (to_ours, to_other) = (ours.authorizations(), other.authorizations());
    assert!(
        to_ours.iter().any(|a| a == "Basic Y2k6czNjcmV0"),
        "our token service got the credentials"
    );
    assert!(to_ours.iter().all(|a| a != "Bearer token-for-other"), "{to_ours:?}");
    assert!(
        to_other
            .iter()
            .all(|a| a != "Basic Y2k6czNjcmV0" && a != "Bearer token-for-ours"),
        "the other registry got our credentials or token: {to_other:?}"
    );
    assert!(to_other.iter().any(|a| a == "Bearer token-for-other"), "{to_other:?}");
    // Nothing is sent before a registry asks: the first request to each carries no credentials.
    for registry in [&ours, &other] {
        let first = &registry.http.requests()[0];
        assert!(first.headers.get("authorization").is_none(), "{:?}", first.url);
    }
}

/// The answer to a streamed asset upload is read with the same caps as every other answer: a
/// body past 8 MiB is not read into memory, a body that is not an asset is named, and either way
/// nothing is published.
#[test]
fn an_oversized_or_misshapen_answer_to_an_upload_is_named_and_nothing_is_published() {
    let repo = project("");
    let huge: &'static str = Box::leak("x".repeat(9 << 20).into_boxed_str());
    for (body, expected) in [
        (huge, "the answer is larger than 8192 KiB"),
        ("<html>", "the upload's answer"),
    ] {
        let fake = FakeGitHub::start();
        fake.inject(
            Fault::Answer {
                method: "POST",
                path: "/assets",
                status: 201,
                headers: vec![],
                body,
            },
            10,
        );
        let out = release(&repo, &fake, &["--version", "1.0.0"]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{expected}: {stderr}");
        assert!(stderr.contains(expected), "{expected}: {stderr}");
        fake.with(|s| {
            assert!(s.releases.iter().all(|r| r.draft), "nothing published: {:?}", s.log);
            assert!(s.tags.is_empty(), "no tag: {:?}", s.tags);
        });
    }
}
