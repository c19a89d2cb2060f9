//! The one HTTP policy, against a local server: what is retried, what is not, and how rate limits
//! and pacing behave.

use std::time::{Duration, Instant};

use reqwest::Method;
use tamma_release::http::{Http, HttpError, HttpPolicy};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::mock::MockHttp as Server;

fn quick() -> HttpPolicy {
    HttpPolicy {
        backoff: Duration::from_millis(5),
        write_interval: Duration::ZERO,
        rate_limit_wait: Duration::from_millis(50),
        ..HttpPolicy::default()
    }
}

fn call(http: &Http, server: &Server, verb: Method, idempotent: bool) -> Result<u16, HttpError> {
    let url = format!("{}/x", server.uri());
    let client = http.client().clone();
    http.send(verb.clone(), idempotent, &|| client.request(verb.clone(), &url))
        .map(|r| r.status().as_u16())
}

#[test]
fn idempotent_requests_are_retried_on_5xx_and_writes_are_not() {
    let server = Server::start();
    server.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ResponseTemplate::new(502))
            .up_to_n_times(2),
    );
    server.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ResponseTemplate::new(200)),
    );
    server.mount(
        Mock::given(method("POST"))
            .and(path("/x"))
            .respond_with(ResponseTemplate::new(500)),
    );
    let http = Http::new(quick()).unwrap();
    assert_eq!(call(&http, &server, Method::GET, true).unwrap(), 200);
    assert_eq!(server.requests().len(), 3);
    let err = call(&http, &server, Method::POST, false).unwrap_err();
    assert!(matches!(err, HttpError::Status { status: 500, .. }), "{err}");
    assert_eq!(server.requests().len(), 4, "a POST that failed with 500 is not re-sent");
}

#[test]
fn rate_limits_are_waited_out_for_any_method() {
    let server = Server::start();
    server.mount(
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
            .up_to_n_times(1),
    );
    server.mount(Mock::given(method("POST")).respond_with(ResponseTemplate::new(201)));
    let http = Http::new(quick()).unwrap();
    let started = Instant::now();
    assert_eq!(call(&http, &server, Method::POST, false).unwrap(), 201);
    assert!(started.elapsed() >= Duration::from_secs(1), "retry-after: 1 honoured");
}

#[test]
fn an_exhausted_primary_limit_far_from_reset_fails_saying_when() {
    let server = Server::start();
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    server.mount(
        Mock::given(method("GET")).respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str()),
        ),
    );
    let http = Http::new(quick()).unwrap();
    let started = Instant::now();
    let err = call(&http, &server, Method::GET, true).unwrap_err();
    assert!(matches!(err, HttpError::RateLimited { .. }));
    assert!(
        err.to_string().contains("used up until") && err.to_string().contains("UTC"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "no hour-long wait");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn writes_are_paced() {
    let server = Server::start();
    server.mount(Mock::given(method("PATCH")).respond_with(ResponseTemplate::new(200)));
    let http = Http::new(HttpPolicy {
        write_interval: Duration::from_millis(300),
        ..quick()
    })
    .unwrap();
    let started = Instant::now();
    for _ in 0..3 {
        call(&http, &server, Method::PATCH, true).unwrap();
    }
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "three writes take two intervals"
    );
}
