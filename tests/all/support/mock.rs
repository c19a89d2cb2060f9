//! A wiremock server with a runtime of its own, for tests that are plain synchronous functions:
//! webhook receivers, smoke-check targets, fake registries.

use wiremock::{Mock, MockServer, Request};

pub struct MockHttp {
    pub server: MockServer,
    runtime: tokio::runtime::Runtime,
}

impl MockHttp {
    pub fn start() -> MockHttp {
        Self::start_with(MockServer::builder())
    }

    /// A server that keeps no copy of the requests it answered ([`MockHttp::requests`] is then
    /// empty): for fakes with state of their own that take gigabyte bodies.
    pub fn start_unrecorded() -> MockHttp {
        Self::start_with(MockServer::builder().disable_request_recording())
    }

    fn start_with(builder: wiremock::MockServerBuilder) -> MockHttp {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(builder.start());
        MockHttp { server, runtime }
    }

    pub fn mount(&self, mock: Mock) {
        self.runtime.block_on(mock.mount(&self.server));
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.runtime
            .block_on(self.server.received_requests())
            .unwrap_or_default()
    }

    /// The requests received on `path`.
    pub fn received(&self, path: &str) -> Vec<Request> {
        self.requests().into_iter().filter(|r| r.url.path() == path).collect()
    }
}
