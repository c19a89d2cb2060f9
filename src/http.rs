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
        }
    }
}

/// A client with the policy applied.
#[derive(Clone)]
pub struct Http {
    client: Client,
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
            .tls_backend_preconfigured(tls)
            .user_agent(user_agent)
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.read_timeout)
            .build()
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        Ok(Http {
            client,
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
        let mut backoff = self.policy.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.pace(&method);
            let last = attempt >= self.policy.attempts;
            let response = match build().send() {
                Ok(response) => response,
                Err(e) => {
                    // reqwest's message names the URL, which may carry a webhook's secret.
                    let e = e.without_url();
                    if idempotent && !last {
                        tracing::warn!("{method} failed ({e}); retrying in {:?}", backoff);
                        std::thread::sleep(jitter(backoff));
                        backoff = backoff.saturating_mul(2);
                        continue;
                    }
                    return Err(HttpError::Transport(e.to_string()));
                }
            };
            let status = response.status().as_u16();
            if status < 400 {
                return Ok(response);
            }
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let retry_after = header("retry-after").and_then(|v| retry_after(&v));
            let remaining = header("x-ratelimit-remaining");
            let reset = header("x-ratelimit-reset").and_then(|v| v.trim().parse::<u64>().ok());
            let body = read_prefix(response, MAX_ERROR_BODY);
            if status == 403 || status == 429 {
                if remaining.as_deref() == Some("0") && retry_after.is_none() {
                    let reset = reset.unwrap_or(now_epoch() + 60);
                    let wait = Duration::from_secs(reset.saturating_sub(now_epoch()).saturating_add(1));
                    if wait > self.policy.max_wait || last {
                        return Err(HttpError::RateLimited {
                            reset,
                            rerun: self.policy.rerun.clone(),
                        });
                    }
                    tracing::warn!(
                        "the API rate limit is used up; waiting {}s for it to reset",
                        wait.as_secs()
                    );
                    std::thread::sleep(wait);
                    continue;
                }
                let secondary =
                    retry_after.is_some() || status == 429 || body.to_ascii_lowercase().contains("rate limit");
                if secondary && !last {
                    let wait = retry_after
                        .unwrap_or(self.policy.rate_limit_wait)
                        .max(Duration::from_millis(1));
                    if wait > self.policy.max_wait {
                        return Err(HttpError::TooLongWait {
                            asked: wait.as_secs(),
                            max: self.policy.max_wait.as_secs(),
                            rerun: self.policy.rerun.clone(),
                        });
                    }
                    tracing::warn!("rate limited (HTTP {status}); waiting {}s as asked", wait.as_secs_f64());
                    std::thread::sleep(wait);
                    continue;
                }
            }
            if status >= 500 && idempotent && !last {
                let wait = retry_after.unwrap_or(backoff);
                if wait > self.policy.max_wait {
                    return Err(HttpError::TooLongWait {
                        asked: wait.as_secs(),
                        max: self.policy.max_wait.as_secs(),
                        rerun: self.policy.rerun.clone(),
                    });
                }
                tracing::warn!("{method} answered {status}; retrying in {:?}", wait);
                std::thread::sleep(jitter(wait));
                backoff = backoff.saturating_mul(2).min(self.policy.max_wait);
                continue;
            }
            return Err(HttpError::Status { status, body });
        }
    }
}

/// A request body that logs how far an upload has got — bytes, share and rate — every few
/// seconds, for files of a few MiB or more (smaller ones finish before anyone waits).
pub struct Progress<R> {
    inner: R,
    name: String,
    total: u64,
    sent: u64,
    started: std::time::Instant,
    last: std::time::Instant,
    ended: bool,
}

impl<R> Progress<R> {
    /// The smallest upload whose progress is logged.
    pub const LOGGED_FROM: u64 = 4 * 1024 * 1024;
    const EVERY: Duration = Duration::from_secs(3);

    /// Wraps `inner`, the `total` bytes of `name`.
    pub fn new(inner: R, name: &str, total: u64) -> Progress<R> {
        let now = std::time::Instant::now();
        Progress {
            inner,
            name: name.to_string(),
            total,
            sent: 0,
            started: now,
            last: now,
            ended: false,
        }
    }

    /// "12.0 of 48.0 MiB (25%, 3.2 MiB/s)".
    fn describe(&self) -> String {
        const MIB: f64 = 1024.0 * 1024.0;
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        format!(
            "{:.1} of {:.1} MiB ({}%, {:.1} MiB/s)",
            self.sent as f64 / MIB,
            self.total as f64 / MIB,
            self.sent * 100 / self.total.max(1),
            self.sent as f64 / MIB / seconds
        )
    }
}

impl<R: std::io::Read> std::io::Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sent += n as u64;
        let end = self.sent >= self.total && !self.ended;
        if self.total >= Self::LOGGED_FROM && (end || self.last.elapsed() >= Self::EVERY) {
            tracing::info!("uploading {}: {}", self.name, self.describe());
            self.last = std::time::Instant::now();
            self.ended |= end;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_progress_passes_the_bytes_through_and_says_how_far_it_got() {
        use std::io::Read;
        let data = vec![7u8; 5 * 1024 * 1024];
        let mut progress = Progress::new(&data[..], "big.tar.gz", data.len() as u64);
        let mut copy = Vec::new();
        progress.read_to_end(&mut copy).unwrap();
        assert_eq!(copy, data);
        assert!(progress.ended, "the end is reported once");
        let said = progress.describe();
        assert!(
            said.starts_with("5.0 of 5.0 MiB (100%, ") && said.ends_with(" MiB/s)"),
            "{said}"
        );
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
