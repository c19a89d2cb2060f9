//! Why this exists: every HTTP client of ours follows one policy, written once. GitHub punishes
//! careless clients: a blindly retried POST duplicates releases, a retried streamed body goes out
//! empty, secondary rate limits ban integrations that keep going. So: only idempotent requests are
//! retried on 5xx and connection errors (exponential backoff with jitter); a 403/429 rate limit is
//! waited out (`retry-after`, else at least the configured minute) — safe for any method, since
//! the server did not act; an exhausted primary limit is waited for only when the reset is near;
//! writes are paced; connects and idle reads time out. TLS is rustls with the Mozilla roots
//! compiled in (the container image has no CA bundle).

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
    /// Wait for an exhausted primary rate limit only if it resets within this.
    pub max_reset_wait: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Timeout for a whole request without progress.
    pub read_timeout: Duration,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            attempts: 5,
            backoff: Duration::from_secs(1),
            rate_limit_wait: Duration::from_secs(60),
            write_interval: Duration::from_secs(1),
            max_reset_wait: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(600),
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
    },
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Status { status, body } => {
                write!(f, "HTTP {status}: {}", body.chars().take(500).collect::<String>())
            }
            HttpError::Transport(e) => write!(f, "connection failed: {e}"),
            HttpError::RateLimited { reset } => {
                write!(
                    f,
                    "the API rate limit is used up until {} UTC",
                    crate::dates::iso_time(*reset as i64)
                )
            }
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
                    if idempotent && !last {
                        tracing::warn!("{method} failed ({e}); retrying in {:?}", backoff);
                        std::thread::sleep(jitter(backoff));
                        backoff *= 2;
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
            let retry_after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
            let remaining = header("x-ratelimit-remaining");
            let reset = header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok());
            let body = response.text().unwrap_or_default();
            if status == 403 || status == 429 {
                if remaining.as_deref() == Some("0") && retry_after.is_none() {
                    let reset = reset.unwrap_or(now_epoch() + 60);
                    let wait = Duration::from_secs(reset.saturating_sub(now_epoch()) + 1);
                    if wait > self.policy.max_reset_wait || last {
                        return Err(HttpError::RateLimited { reset });
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
                        .map_or(self.policy.rate_limit_wait, Duration::from_secs)
                        .max(Duration::from_millis(1));
                    tracing::warn!("rate limited (HTTP {status}); waiting {}s as asked", wait.as_secs_f64());
                    std::thread::sleep(wait);
                    continue;
                }
            }
            if status >= 500 && idempotent && !last {
                tracing::warn!("{method} answered {status}; retrying in {:?}", backoff);
                std::thread::sleep(jitter(backoff));
                backoff *= 2;
                continue;
            }
            return Err(HttpError::Status { status, body });
        }
    }
}
