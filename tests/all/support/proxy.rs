//! A forwarding proxy in front of a real registry (Verdaccio, docker-registry) that fails chosen
//! requests once: how a test makes one flip step of a real registry fail, and counts the writes
//! that reach the registry. It may also answer some requests itself (an interceptor): how a test
//! puts an npm trusted-publishing token exchange in front of Verdaccio.

use std::sync::{Arc, Mutex};

use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::support::mock::MockHttp;

/// A request to fail once: its method, a substring of its path, the status to answer.
#[derive(Debug, Clone)]
pub struct ProxyFault {
    pub method: &'static str,
    pub path: String,
    pub status: u16,
}

#[derive(Default)]
struct State {
    faults: Vec<ProxyFault>,
    writes: usize,
    log: Vec<(String, String)>,
}

/// Answers a request itself instead of forwarding it, when it returns `Some`.
pub type Intercept = Box<dyn Fn(&Request) -> Option<ResponseTemplate> + Send + Sync>;

struct Forward {
    upstream: String,
    state: Arc<Mutex<State>>,
    intercept: Option<Intercept>,
}

impl Respond for Forward {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let method = request.method.to_string();
        let path = request.url.path().to_string();
        {
            let mut state = self.state.lock().unwrap();
            state.log.push((method.clone(), path.clone()));
            if let Some(answer) = self.intercept.as_ref().and_then(|i| i(request)) {
                return answer;
            }
            if method != "GET" && method != "HEAD" {
                state.writes += 1;
            }
            if let Some(i) = state
                .faults
                .iter()
                .position(|f| f.method == method && path.contains(&f.path))
            {
                let fault = state.faults.remove(i);
                return ResponseTemplate::new(fault.status).set_body_string("injected by the test proxy");
            }
        }
        let url = format!(
            "{}{}{}",
            self.upstream,
            path,
            request.url.query().map(|q| format!("?{q}")).unwrap_or_default()
        );
        let headers: Vec<(String, Vec<u8>)> = request
            .headers
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "host" | "content-length" | "connection" | "transfer-encoding"
                )
            })
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect();
        let body = request.body.clone();
        // reqwest's blocking client must not run on the server's async runtime.
        let answer = std::thread::spawn(move || {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let client = reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let mut forwarded = client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), &url);
            for (k, v) in headers {
                forwarded = forwarded.header(k, v);
            }
            let response = forwarded.body(body).send().expect("the upstream answers");
            let status = response.status().as_u16();
            let headers: Vec<(String, String)> = response
                .headers()
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "content-length" | "transfer-encoding" | "connection"))
                .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
                .collect();
            (status, headers, response.bytes().unwrap().to_vec())
        })
        .join()
        .unwrap();
        let (status, headers, bytes) = answer;
        let mut template = ResponseTemplate::new(status);
        for (k, v) in headers {
            template = template.append_header(k.as_str(), v.as_str());
        }
        template.set_body_bytes(bytes)
    }
}

/// The running proxy.
pub struct FaultProxy {
    state: Arc<Mutex<State>>,
    http: MockHttp,
}

impl FaultProxy {
    /// A proxy for `upstream` (e.g. `http://127.0.0.1:4873`).
    pub fn start(upstream: &str) -> FaultProxy {
        Self::start_with(upstream, None)
    }

    /// A proxy for `upstream` that lets `intercept` answer first.
    pub fn start_with(upstream: &str, intercept: Option<Intercept>) -> FaultProxy {
        let http = MockHttp::start();
        let state = Arc::new(Mutex::new(State::default()));
        http.mount(Mock::given(wiremock::matchers::any()).respond_with(Forward {
            upstream: upstream.trim_end_matches('/').to_string(),
            state: state.clone(),
            intercept,
        }));
        FaultProxy { state, http }
    }

    /// Every request that reached the proxy: (method, path).
    pub fn log(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().log.clone()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.http.uri()
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        self.url().trim_start_matches("http://").to_string()
    }

    /// Fails the next request matching `fault`, once.
    pub fn fail_once(&self, fault: ProxyFault) {
        self.state.lock().unwrap().faults.push(fault);
    }

    /// Requests other than GET and HEAD that reached the proxy.
    pub fn writes(&self) -> usize {
        self.state.lock().unwrap().writes
    }

    /// Whether every injected fault was hit.
    pub fn faults_left(&self) -> usize {
        self.state.lock().unwrap().faults.len()
    }
}
