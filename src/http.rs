//! Why this exists: every HTTP client of ours follows one policy, written once. GitHub punishes
//! careless clients: a blindly retried POST duplicates releases, a retried streamed body goes out
//! empty, secondary rate limits ban integrations that keep going. So: only idempotent requests are
//! retried on 5xx and connection errors (exponential backoff with jitter); a 403/429 rate limit is
//! waited out (`retry-after`, else at least the configured minute) — safe for any method, since
//! the server did not act; an exhausted primary limit is waited for only when the reset is near;
//! writes are paced; connects and idle reads time out. TLS is rustls with the Mozilla roots
//! compiled in (the container image has no CA bundle).
//!
//! Every server answer is untrusted: no wait it asks for is longer than [`HttpPolicy::max_wait`]
//! (a longer one fails the run, naming the wait and how to re-run), and no body is read past a
//! cap ([`read_body`]; error bodies: [`MAX_ERROR_BODY`]), so neither a huge `retry-after` nor a
//! gigabyte error page can stall or exhaust the job.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use reqwest::blocking::{Client, RequestBuilder, Response};

mod upload;
use upload::FileBody;
pub use upload::{FileUpload, PROGRESS_FROM, Progress, rate};

/// The knobs of the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpPolicy {
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// The first backoff; doubled each retry, with up to 50 % jitter.
    pub backoff: Duration,
    /// Wait after a rate-limit answer without `retry-after`.
    pub rate_limit_wait: Duration,
    /// Minimum time between two write requests (POST/PATCH/PUT/DELETE).
    pub write_interval: Duration,
    /// The longest wait a server may ask for (`retry-after`, a rate limit's reset); a longer one
    /// fails the request instead of stalling the job.
    pub max_wait: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Timeout for a whole request without progress.
    pub read_timeout: Duration,
    /// How to run again, named when the policy gives up on a long wait (e.g. the workflow run's
    /// URL); `None` locally.
    pub rerun: Option<String>,
}

/// The most of an error answer that is read (GitHub's message fits many times over).
pub const MAX_ERROR_BODY: u64 = 16 * 1024;
/// The most of a JSON answer that is read (API objects, listings, journals, tokens).
pub const MAX_JSON: u64 = 8 << 20;

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            attempts: 5,
            backoff: Duration::from_secs(1),
            rate_limit_wait: Duration::from_secs(60),
            write_interval: Duration::from_secs(1),
            max_wait: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(600),
            rerun: None,
        }
    }
}

/// Why a request failed after the policy gave up.
#[derive(Debug)]
pub enum HttpError {
    /// The server answered with a failure status.
    Status {
        /// The status.
        status: u16,
        /// The body (GitHub's JSON error, usually).
        body: String,
    },
    /// The connection failed or timed out.
    Transport(String),
    /// The primary rate limit is exhausted until the given epoch second.
    RateLimited {
        /// `x-ratelimit-reset`.
        reset: u64,
        /// How to run again ([`HttpPolicy::rerun`]).
        rerun: Option<String>,
    },
    /// The server asked to wait longer than [`HttpPolicy::max_wait`].
    TooLongWait {
        /// The wait asked for, in seconds.
        asked: u64,
        /// The most this run waits, in seconds.
        max: u64,
        /// How to run again ([`HttpPolicy::rerun`]).
        rerun: Option<String>,
    },
    /// A 2xx answer that is not what the endpoint answers: not JSON, too large, cut off.
    Unexpected(String),
    /// The request cannot be made at all: its URL does not parse (said without the URL).
    Invalid(String),
}

fn rerun_hint(rerun: &Option<String>) -> String {
    match rerun {
        Some(run) => format!("; re-run {run} then (it resumes where this one stopped)"),
        None => "; run again then (it resumes where this one stopped)".into(),
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Status { status, body } => {
                write!(f, "HTTP {status}: {}", body.chars().take(500).collect::<String>())
            }
            HttpError::Transport(e) => write!(f, "connection failed: {e}"),
            HttpError::RateLimited { reset, rerun } => {
                write!(
                    f,
                    "the API rate limit is used up until {} UTC{}",
                    crate::dates::iso_time(*reset as i64),
                    rerun_hint(rerun)
                )
            }
            HttpError::TooLongWait { asked, max, rerun } => write!(
                f,
                "the server asks to wait {asked} s before the next request (retry-after), longer than this run waits ({max} s); that is after {} UTC{}",
                crate::dates::iso_time(now_epoch().saturating_add(*asked).min(i64::MAX as u64) as i64),
                rerun_hint(rerun)
            ),
            HttpError::Unexpected(e) => write!(f, "unexpected answer: {e}"),
            HttpError::Invalid(e) => write!(f, "{e}"),
        }
    }
}

/// Why a URL failed to parse, `(reason)` and the fix where there is one, for a message that does
/// not repeat the URL (it may carry a secret). The image leaves out IDNA's Unicode tables
/// (0.13 MB), so a host outside ASCII is written as `idn2` prints it.
fn parse_failure(error: &url::ParseError) -> String {
    let hint = match error {
        url::ParseError::IdnaError => "; write a host outside ASCII in its Punycode form (xn--…)",
        _ => "",
    };
    format!("({error}){hint}")
}

/// Why `url` cannot be requested, if it cannot: not http(s), or not a URL.
pub fn url_problem(url: &str) -> Option<String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Some("is not an http(s) URL".into());
    }
    url::Url::parse(url)
        .err()
        .map(|error| format!("is not a valid URL {}", parse_failure(&error)))
}

/// `url` as an error message may show it: scheme and host, without credentials, port, path or
/// query (a webhook's path is often its secret).
pub fn shown_origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").map_or(("", url), |(scheme, rest)| (scheme, rest));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if scheme.is_empty() {
        host.to_string()
    } else {
        format!("{scheme}://{host}")
    }
}

/// The failure of a request reqwest could not build: a URL that does not parse (said without the
/// URL), or a header value it refuses — most often a token with a line break in it.
fn unbuildable(error: &reqwest::Error) -> HttpError {
    let source = std::error::Error::source(error);
    let reason = source.map_or_else(|| "builder error".into(), |s| s.to_string());
    match source.and_then(|s| s.downcast_ref::<url::ParseError>()) {
        Some(error) => HttpError::Invalid(format!("the URL is not valid {}", parse_failure(error))),
        None => HttpError::Invalid(format!(
            "the request cannot be made ({reason}); does a token or header value hold a line break or another control character?"
        )),
    }
}

/// Why a streamed request got no answer.
enum Unsent {
    /// It could not be built.
    Invalid(HttpError),
    /// The connection failed (said without the URL).
    Transport(String),
}

/// A client with the policy applied.
#[derive(Clone)]
pub struct Http {
    client: Client,
    /// The same client, async: large files stream through it ([`Http::send_file`]).
    streaming: reqwest::Client,
    policy: HttpPolicy,
    last_write: Arc<Mutex<Option<Instant>>>,
}

fn now_epoch() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `Retry-After` as a wait: delta-seconds or an HTTP date (RFC 9110 §10.2.3); `None` otherwise.
pub fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if value.bytes().all(|b| b.is_ascii_digit()) && !value.is_empty() {
        return Some(Duration::MAX);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// The `rel="next"` URL of a `Link` header (RFC 8288), as GitHub paginates lists.
pub fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|part| {
            let (target, params) = part.trim().split_once(';')?;
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            params
                .split(';')
                .any(|p| {
                    let p = p.trim().replace(' ', "");
                    p == "rel=\"next\"" || p == "rel=next"
                })
                .then(|| target.to_string())
        })
}

/// Reads a success body of at most `limit` bytes; a larger one (by `content-length`, or by what
/// arrives) is an error, not an allocation.
pub fn read_body(response: Response, limit: u64) -> Result<Vec<u8>, HttpError> {
    let too_large = || HttpError::Unexpected(format!("the answer is larger than {} KiB", limit / 1024));
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    response
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| HttpError::Transport(e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The first `limit` bytes of a body, as text; the rest is never read.
pub fn read_prefix(response: Response, limit: u64) -> String {
    let mut bytes = Vec::new();
    let _ = response.take(limit).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

fn jitter(base: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    base + base.mul_f64(f64::from(byte[0]) / 255.0 / 2.0)
}

impl Http {
    /// A client with `policy` and rustls + the Mozilla roots, identifying as tamma-release.
    pub fn new(policy: HttpPolicy) -> crate::error::Result<Http> {
        Self::build(policy).map_err(|e| crate::error::Error::Failed(format!("cannot set up the HTTP client: {e}")))
    }

    fn build(policy: HttpPolicy) -> Result<Http, HttpError> {
        let user_agent = concat!("tamma-release/", env!("CARGO_PKG_VERSION"));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| HttpError::Transport(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = Client::builder()
            .tls_backend_preconfigured(tls.clone())
            .user_agent(user_agent)
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.read_timeout)
            .build()
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        let streaming = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .user_agent(user_agent)
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.read_timeout)
            .build()
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        Ok(Http {
            client,
            streaming,
            policy,
            last_write: Arc::new(Mutex::new(None)),
        })
    }

    /// The underlying client, to build requests with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The policy this client follows.
    pub fn policy(&self) -> &HttpPolicy {
        &self.policy
    }

    fn pace(&self, method: &Method) {
        if *method == Method::GET || *method == Method::HEAD {
            return;
        }
        let mut last = self
            .last_write
            .lock()
            .expect("no thread panics holding the pacing lock");
        if let Some(at) = *last {
            let since = at.elapsed();
            if since < self.policy.write_interval {
                std::thread::sleep(self.policy.write_interval - since);
            }
        }
        *last = Some(Instant::now());
    }

    /// Sends the request `build` makes (called once per attempt, so streamed bodies are fresh).
    /// `idempotent` allows retries on 5xx and connection errors. Success is any 2xx or 3xx; a
    /// 404 is returned as `Status` for the caller to interpret.
    pub fn send(
        &self,
        method: Method,
        idempotent: bool,
        build: &dyn Fn() -> RequestBuilder,
    ) -> Result<Response, HttpError> {
        self.attempts(&method, |last, backoff| match build().send() {
            Ok(response) if response.status().as_u16() < 400 => Ok(response),
            Ok(response) => {
                let (status, headers) = (response.status().as_u16(), response.headers().clone());
                let body = read_prefix(response, MAX_ERROR_BODY);
                Err(self.judge(&method, idempotent, last, backoff, status, &headers, body))
            }
            // A request that cannot be built fails alike every time.
            Err(e) if e.is_builder() => Err(Verdict::Fail(unbuildable(&e))),
            // reqwest's message names the URL, which may carry a webhook's secret.
            Err(e) => Err(self.judge_transport(&method, idempotent, last, backoff, e.without_url().to_string())),
        })
    }

    /// Runs `attempt` until it succeeds or the policy gives up: writes paced, attempts counted
    /// (`attempt` learns whether this is the last), the waits the policy decides slept.
    fn attempts<T>(
        &self,
        method: &Method,
        mut attempt: impl FnMut(bool, &mut Duration) -> Result<T, Verdict>,
    ) -> Result<T, HttpError> {
        let mut backoff = self.policy.backoff;
        let mut count = 0;
        loop {
            count += 1;
            self.pace(method);
            match attempt(count >= self.policy.attempts, &mut backoff) {
                Ok(value) => return Ok(value),
                Err(Verdict::Wait(wait)) => std::thread::sleep(wait),
                Err(Verdict::Fail(error)) => return Err(error),
            }
        }
    }

    /// Streams the file of `upload` as the body of a request, read in 64 KiB blocks as the
    /// connection asks for them (the blocking client would send it 8 KiB at a time, at a quarter
    /// of curl's speed), with `content-length` set and its progress logged. Not retried but for rate limits, which the server did not act on; then the file is
    /// read again from the start. Returns at most `limit` bytes of a success answer.
    pub fn send_file(
        &self,
        method: Method,
        url: &str,
        headers: reqwest::header::HeaderMap,
        upload: &FileUpload<'_>,
        limit: u64,
    ) -> Result<Vec<u8>, HttpError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        self.attempts(&method, |last, backoff| {
            let answer = runtime.block_on(async {
                let body = FileBody::open(upload).map_err(|e| Unsent::Transport(e.to_string()))?;
                let response = self
                    .streaming
                    .request(method.clone(), url)
                    .headers(headers.clone())
                    .header("content-length", upload.size)
                    .body(reqwest::Body::wrap(body))
                    .send()
                    .await
                    .map_err(|e| match e.is_builder() {
                        true => Unsent::Invalid(unbuildable(&e)),
                        false => Unsent::Transport(e.without_url().to_string()),
                    })?;
                let (status, headers) = (response.status().as_u16(), response.headers().clone());
                let cap = if status < 400 { limit } else { MAX_ERROR_BODY };
                Ok::<_, Unsent>((status, headers, read_async(response, cap).await))
            });
            match answer {
                Ok((status, _, body)) if status < 400 => {
                    let body = body.map_err(|e| Verdict::Fail(HttpError::Transport(e.to_string())))?;
                    if body.len() as u64 > limit {
                        let error = format!("the answer is larger than {} KiB", limit / 1024);
                        return Err(Verdict::Fail(HttpError::Unexpected(error)));
                    }
                    Ok(body)
                }
                Ok((status, headers, body)) => {
                    let body = String::from_utf8_lossy(&body.unwrap_or_default()).into_owned();
                    Err(self.judge(&method, false, last, backoff, status, &headers, body))
                }
                Err(Unsent::Invalid(error)) => Err(Verdict::Fail(error)),
                Err(Unsent::Transport(e)) => Err(self.judge_transport(&method, false, last, backoff, e)),
            }
        })
    }

    /// What the policy makes of a connection that failed.
    fn judge_transport(
        &self,
        method: &Method,
        idempotent: bool,
        last: bool,
        backoff: &mut Duration,
        error: String,
    ) -> Verdict {
        if idempotent && !last {
            tracing::warn!("{method} failed ({error}); retrying in {:?}", backoff);
            let wait = jitter(*backoff);
            *backoff = backoff.saturating_mul(2);
            return Verdict::Wait(wait);
        }
        Verdict::Fail(HttpError::Transport(error))
    }

    /// What the policy makes of a failure answer (status 400 or more): wait and send again, or
    /// give up with the error.
    #[allow(clippy::too_many_arguments)]
    fn judge(
        &self,
        method: &Method,
        idempotent: bool,
        last: bool,
        backoff: &mut Duration,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: String,
    ) -> Verdict {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let retry_after = header("retry-after").and_then(|v| retry_after(&v));
        let remaining = header("x-ratelimit-remaining");
        let reset = header("x-ratelimit-reset").and_then(|v| v.trim().parse::<u64>().ok());
        if status == 403 || status == 429 {
            if remaining.as_deref() == Some("0") && retry_after.is_none() {
                let reset = reset.unwrap_or(now_epoch() + 60);
                let wait = Duration::from_secs(reset.saturating_sub(now_epoch()).saturating_add(1));
                if wait > self.policy.max_wait || last {
                    return Verdict::Fail(HttpError::RateLimited {
                        reset,
                        rerun: self.policy.rerun.clone(),
                    });
                }
                tracing::warn!(
                    "the API rate limit is used up; waiting {}s for it to reset",
                    wait.as_secs()
                );
                return Verdict::Wait(wait);
            }
            let secondary = retry_after.is_some() || status == 429 || body.to_ascii_lowercase().contains("rate limit");
            if secondary && !last {
                let wait = retry_after
                    .unwrap_or(self.policy.rate_limit_wait)
                    .max(Duration::from_millis(1));
                if wait > self.policy.max_wait {
                    return Verdict::Fail(self.too_long(wait));
                }
                tracing::warn!("rate limited (HTTP {status}); waiting {}s as asked", wait.as_secs_f64());
                return Verdict::Wait(wait);
            }
        }
        if status >= 500 && idempotent && !last {
            let wait = retry_after.unwrap_or(*backoff);
            if wait > self.policy.max_wait {
                return Verdict::Fail(self.too_long(wait));
            }
            tracing::warn!("{method} answered {status}; retrying in {:?}", wait);
            *backoff = backoff.saturating_mul(2).min(self.policy.max_wait);
            return Verdict::Wait(jitter(wait));
        }
        Verdict::Fail(HttpError::Status { status, body })
    }

    fn too_long(&self, wait: Duration) -> HttpError {
        HttpError::TooLongWait {
            asked: wait.as_secs(),
            max: self.policy.max_wait.as_secs(),
            rerun: self.policy.rerun.clone(),
        }
    }
}

/// What the policy decided about an attempt that did not succeed.
enum Verdict {
    /// Send again after this wait.
    Wait(Duration),
    /// Give up.
    Fail(HttpError),
}

/// Reads at most `cap + 1` bytes of an async answer (the caller tells "too large" by the length).
async fn read_async(mut response: reqwest::Response, cap: u64) -> Result<Vec<u8>, reqwest::Error> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = (cap + 1).saturating_sub(bytes.len() as u64) as usize;
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if bytes.len() as u64 > cap {
            break;
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_without_being_repeated_and_unicode_hosts_are_named_with_their_fix() {
        assert_eq!(url_problem("https://xn--bcher-kva.example/npm/"), None);
        assert_eq!(url_problem("http://127.0.0.1:4873"), None);
        assert_eq!(url_problem("ftp://example.com"), Some("is not an http(s) URL".into()));
        let unicode = url_problem("https://bücher.example/").unwrap();
        assert!(unicode.contains("Punycode form (xn--…)"), "{unicode}");
        assert!(!unicode.contains("bücher"), "{unicode}");
        let port = url_problem("https://user:secret@example.com:99999/").unwrap();
        assert_eq!(port, "is not a valid URL (invalid port number)");
        // Only the host decides the Punycode hint, not a Unicode password.
        let port = url_problem("https://u:pässword@example.com:99999/").unwrap();
        assert_eq!(port, "is not a valid URL (invalid port number)");
    }

    #[test]
    fn errors_show_a_url_as_its_origin_only() {
        assert_eq!(
            shown_origin("https://hooks.slack.com/services/T0/B0/secret?x=1"),
            "https://hooks.slack.com"
        );
        assert_eq!(
            shown_origin("https://u:tok@registry.example:99999/npm/"),
            "https://registry.example:99999"
        );
        assert_eq!(shown_origin("u:tok@registry.example/npm"), "registry.example");
        assert_eq!(
            shown_origin("ftp://deploy.example.com/hook"),
            "ftp://deploy.example.com"
        );
    }

    #[test]
    fn a_request_that_cannot_be_built_says_why_without_retrying() {
        let http = Http::new(HttpPolicy::default()).unwrap();
        let client = http.client();
        let unicode = client.get("https://bücher.example/").build().unwrap_err();
        assert!(unicode.is_builder());
        assert_eq!(
            unbuildable(&unicode).to_string(),
            "the URL is not valid (invalid international domain name); write a host outside ASCII in its Punycode form (xn--…)"
        );
        let header = client
            .get("https://example.com/")
            .header("authorization", "Bearer s3cr3t\n")
            .build()
            .unwrap_err();
        let said = unbuildable(&header).to_string();
        assert!(said.starts_with("the request cannot be made ("), "{said}");
        assert!(said.contains("line break") && !said.contains("s3cr3t"), "{said}");
        // Once, though the policy allows five attempts for a GET.
        let started = Instant::now();
        let failed = http
            .send(Method::GET, true, &|| http.client().get("https://bücher.example/"))
            .unwrap_err();
        assert!(matches!(failed, HttpError::Invalid(_)), "{failed}");
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn an_upload_url_from_a_server_that_cannot_be_requested_fails_at_once_saying_why() {
        // GitHub's answer names the upload URL; an answer that names a bad one is not retried.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("asset.bin");
        std::fs::write(&path, b"bytes").unwrap();
        let upload = FileUpload {
            path: &path,
            name: "asset.bin",
            size: 5,
        };
        let http = Http::new(HttpPolicy::default()).unwrap();
        let started = Instant::now();
        let failed = http
            .send_file(
                Method::POST,
                "https://üpload.example/assets?name=x",
                Default::default(),
                &upload,
                1024,
            )
            .unwrap_err();
        assert!(matches!(failed, HttpError::Invalid(_)), "{failed}");
        assert!(failed.to_string().contains("Punycode"), "{failed}");
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(retry_after("99999999999999999999999"), Some(Duration::MAX));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(retry_after("soon"), None);
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
        assert!(retry_after(&later).unwrap() > Duration::from_secs(3500));
    }

    #[test]
    fn next_links() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "link",
            "<https://api.github.com/repositories/1/releases?per_page=100&page=2>; rel=\"next\", <https://api.github.com/repositories/1/releases?per_page=100&page=5>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://api.github.com/repositories/1/releases?per_page=100&page=2")
        );
        headers.insert("link", "<https://x/?page=1>; rel=\"prev\"".parse().unwrap());
        assert_eq!(next_link(&headers), None);
    }
}
