//! Why this exists: where an image is built from a Dockerfile, the Docker daemon builds it — the
//! one the Actions runner mounts into container actions at /var/run/docker.sock. The build context
//! is streamed to the daemon as a tar (constant memory, `.dockerignore` honoured), errors inside
//! the build stream are surfaced, and the API version is negotiated (bollard speaks a newer one
//! than many daemons).

use std::io::Write;
use std::path::Path;

use bollard::Docker;
use bollard::query_parameters::BuildImageOptionsBuilder;
use futures_util::StreamExt;
use ignore::gitignore::GitignoreBuilder;

use crate::build::files::{Links, walk};
use crate::error::{Error, Result};

/// The socket used when no `DOCKER_HOST` is given.
pub const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";

/// A built image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltImage {
    /// The tag given, e.g. `ghcr.io/acme/widget:1.2.3`.
    pub reference: String,
    /// The daemon's image id, `sha256:<hex>`.
    pub id: String,
}

/// A `Write` that hands 64 KiB chunks to the request body.
struct ChannelWriter {
    sender: tokio::sync::mpsc::Sender<bytes::Bytes>,
    buffer: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            let chunk = bytes::Bytes::from(std::mem::take(&mut self.buffer));
            self.sender
                .blocking_send(chunk)
                .map_err(|_| std::io::Error::other("the daemon stopped reading the context"))?;
        }
        Ok(())
    }
}

fn context_tar(context: &Path, out: ChannelWriter) -> std::io::Result<()> {
    let mut ignore = GitignoreBuilder::new(context);
    let dockerignore = context.join(".dockerignore");
    if dockerignore.is_file() {
        ignore.add(&dockerignore);
    }
    let ignore = ignore.build().map_err(std::io::Error::other)?;
    let mut tar = tar::Builder::new(out);
    tar.follow_symlinks(false);
    let mut failure = None;
    let walked = walk(
        context,
        "",
        Links::Keep,
        "the Docker build context",
        &mut |relative, path| {
            let keep = relative == "Dockerfile" || !ignore.matched_path_or_any_parents(relative, false).is_ignore();
            if keep && let Err(e) = tar.append_path_with_name(path, relative) {
                failure = Some(e);
            }
            Ok(())
        },
    );
    if let Some(e) = failure {
        return Err(e);
    }
    walked.map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut out = tar.into_inner()?;
    out.flush()
}

fn daemon_error(host: &str, e: impl std::fmt::Display) -> Error {
    Error::Failed(format!(
        "cannot reach a Docker daemon at {host} ({e}); in Actions the runner mounts /var/run/docker.sock into container actions, locally start Docker or set DOCKER_HOST — or build to an OCI layout and use `oci-layout`"
    ))
}

/// A current-thread runtime for one daemon conversation.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))
}

/// Connects to the daemon at `host` (a unix socket or tcp address) and negotiates the API version.
async fn connect(host: &str) -> Result<Docker> {
    let docker = if host.starts_with("unix://") || host.starts_with('/') {
        Docker::connect_with_unix(host, 600, bollard::API_DEFAULT_VERSION)
    } else {
        Docker::connect_with_http(host, 600, bollard::API_DEFAULT_VERSION)
    }
    .map_err(|e| daemon_error(host, e))?;
    docker.negotiate_version().await.map_err(|e| daemon_error(host, e))
}

/// Builds `dockerfile` (relative to `context`) and tags it `reference`.
pub fn build(docker_host: Option<&str>, context: &Path, dockerfile: &str, reference: &str) -> Result<BuiltImage> {
    let host = docker_host.unwrap_or(DEFAULT_SOCKET);
    runtime()?.block_on(async {
        let docker = connect(host).await?;
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<bytes::Bytes>(8);
        let context_dir = context.to_path_buf();
        let producer = std::thread::spawn(move || {
            context_tar(
                &context_dir,
                ChannelWriter {
                    sender,
                    buffer: Vec::new(),
                },
            )
        });
        let body = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
        let options = BuildImageOptionsBuilder::default()
            .dockerfile(dockerfile)
            .t(reference)
            .rm(true)
            .forcerm(true)
            .build();
        let mut stream = docker.build_image(options, None, Some(bollard::body_stream(body)));
        let mut id = None;
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| Error::Failed(format!("docker build of {reference} failed: {e}")))?;
            if let Some(line) = info.stream.as_deref().map(str::trim_end).filter(|l| !l.is_empty()) {
                tracing::info!(target: "tamma_release::build", "{line}");
            }
            if let Some(detail) = info.error_detail {
                return Err(Error::Failed(format!(
                    "docker build of {reference} failed: {}",
                    detail.message.unwrap_or_default()
                )));
            }
            if let Some(aux) = info.aux.and_then(|a| a.id) {
                id = Some(aux);
            }
        }
        match producer.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(Error::Failed(format!(
                    "cannot send the build context {}: {e}",
                    context.display()
                )));
            }
            Err(_) => return Err(Error::Failed("the build context writer panicked".into())),
        }
        let id = match id {
            Some(id) => id,
            None => docker
                .inspect_image(reference)
                .await
                .map_err(|e| Error::Failed(format!("built {reference} but cannot inspect it: {e}")))?
                .id
                .unwrap_or_default(),
        };
        Ok(BuiltImage {
            reference: reference.to_string(),
            id,
        })
    })
}

/// Pushes `repository:tag` from the daemon to its registry (`registry_host`), surfacing errors
/// that arrive inside the push stream after an HTTP 200. `credentials` (user, password) are only
/// given when they are this registry's.
pub fn push(
    docker_host: Option<&str>,
    repository: &str,
    tag: &str,
    credentials: Option<(&str, &crate::secret::Secret)>,
    registry_host: &str,
) -> Result<()> {
    let host = docker_host.unwrap_or(DEFAULT_SOCKET);
    runtime()?.block_on(async {
        let docker = connect(host).await?;
        let auth = bollard::auth::DockerCredentials {
            username: credentials.map(|(user, _)| user.to_string()),
            password: credentials.map(|(_, password)| password.expose().to_string()),
            serveraddress: Some(registry_host.to_string()),
            ..Default::default()
        };
        let options = bollard::query_parameters::PushImageOptionsBuilder::default()
            .tag(tag)
            .build();
        let mut stream = docker.push_image(repository, Some(options), Some(auth));
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| Error::Failed(format!("docker push of {repository}:{tag} failed: {e}")))?;
            if let Some(detail) = info.error_detail {
                return Err(Error::Failed(format!(
                    "docker push of {repository}:{tag} failed: {}",
                    detail.message.unwrap_or_default()
                )));
            }
        }
        Ok(())
    })
}
