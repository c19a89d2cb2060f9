//! Why this exists: the people who must know a release went out (or failed, or was rolled back)
//! are not all in a chat; `[notify] email` tells them by mail, through the SMTP server they name,
//! over TLS (rustls) — from the first byte (`smtps://`) or after STARTTLS (`smtp://`, required).
//! A mail server that fails is a warning: it never fails a release that succeeded.

use std::str::FromStr;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use crate::config::EmailConfig;
use crate::secret::Secret;

/// How long one connection may take before the notification gives up.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Where the mail goes: host, port and how TLS is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// The host name or address.
    pub host: String,
    /// The port.
    pub port: u16,
    /// TLS from the first byte (`smtps`), else STARTTLS.
    pub implicit_tls: bool,
    /// A loopback host: STARTTLS is used when offered, not required (a local relay).
    pub loopback: bool,
}

impl Server {
    /// Parses `smtps://host[:465]` or `smtp://host[:587]`; the error says what is allowed.
    pub fn parse(url: &str) -> Result<Server, String> {
        let allowed =
            "smtps://host[:port] (TLS from the start, default port 465) or smtp://host[:port] (STARTTLS, default 587)";
        let (implicit_tls, rest) = match url.split_once("://") {
            Some(("smtps", rest)) => (true, rest),
            Some(("smtp", rest)) => (false, rest),
            _ => return Err(format!("notify.email.smtp {url:?} is not {allowed}")),
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains(['@', '/', '?', '#']) || rest.is_empty() {
            return Err(format!(
                "notify.email.smtp {url:?} must be only {allowed}; the user and password come from the smtp-username and smtp-password inputs"
            ));
        }
        let default = if implicit_tls { 465 } else { 587 };
        let port_of = |text: &str| {
            text.parse::<u16>()
                .map_err(|_| format!("notify.email.smtp {url:?}: {text:?} is not a port"))
        };
        let (host, port) = match rest.strip_prefix('[') {
            // [::1]:25
            Some(v6) => match v6.split_once(']') {
                Some((host, "")) => (host.to_string(), default),
                Some((host, after)) if after.starts_with(':') => (host.to_string(), port_of(&after[1..])?),
                _ => return Err(format!("notify.email.smtp {url:?} is not {allowed}")),
            },
            None => match rest.split_once(':') {
                Some((host, port)) => (host.to_string(), port_of(port)?),
                None => (rest.to_string(), default),
            },
        };
        if host.is_empty() {
            return Err(format!("notify.email.smtp {url:?} names no host; it is {allowed}"));
        }
        let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        Ok(Server {
            host,
            port,
            implicit_tls,
            loopback,
        })
    }

    /// How TLS is used: from the first byte (`smtps`), STARTTLS required (`smtp`), or STARTTLS
    /// when offered (`smtp` to a loopback relay only).
    pub fn tls(&self) -> TlsMode {
        match (self.implicit_tls, self.loopback) {
            (true, _) => TlsMode::Implicit,
            (false, false) => TlsMode::StartTlsRequired,
            (false, true) => TlsMode::StartTlsIfOffered,
        }
    }

    /// `host:port`, for steps and warnings.
    pub fn shown(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// How a connection is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS from the first byte.
    Implicit,
    /// STARTTLS, or no mail (and no login) at all.
    StartTlsRequired,
    /// STARTTLS when the server offers it: a relay on this machine.
    StartTlsIfOffered,
}

/// Checks `[notify.email]` when the config is read: the server and every address. Errors are
/// (key, message).
pub fn check(email: &EmailConfig) -> Result<(), (&'static str, String)> {
    Server::parse(&email.smtp).map_err(|e| ("smtp", e))?;
    Mailbox::from_str(&email.from).map_err(|e| {
        (
            "from",
            format!("notify.email.from {:?} is not a mail address ({e})", email.from),
        )
    })?;
    if email.to.is_empty() {
        return Err(("to", "notify.email.to lists nobody; give one address or more".into()));
    }
    for to in &email.to {
        Mailbox::from_str(to).map_err(|e| ("to", format!("notify.email.to {to:?} is not a mail address ({e})")))?;
    }
    Ok(())
}

/// Sends `subject` and `body` to the configured recipients. `ca` is the PEM of `[notify.email]
/// ca`, when set. Returns the server, for the step; the error is a warning's text.
pub fn send(
    email: &EmailConfig,
    ca: Option<&[u8]>,
    login: Option<&(Secret, Secret)>,
    subject: &str,
    body: &str,
) -> Result<String, String> {
    let server = Server::parse(&email.smtp)?;
    let mut message = Message::builder()
        .from(Mailbox::from_str(&email.from).map_err(|e| e.to_string())?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN);
    for to in &email.to {
        message = message.to(Mailbox::from_str(to).map_err(|e| e.to_string())?);
    }
    let message = message.body(body.to_string()).map_err(|e| e.to_string())?;
    let mut tls = TlsParameters::builder(server.host.clone());
    if let Some(pem) = ca {
        tls = tls.add_root_certificate(Certificate::from_pem(pem).map_err(|e| format!("notify.email.ca: {e}"))?);
    }
    let tls = tls.build_rustls().map_err(|e| e.to_string())?;
    let mode = match server.tls() {
        TlsMode::Implicit => Tls::Wrapper(tls),
        TlsMode::StartTlsRequired => Tls::Required(tls),
        TlsMode::StartTlsIfOffered => Tls::Opportunistic(tls),
    };
    let mut transport = SmtpTransport::builder_dangerous(server.host.clone())
        .port(server.port)
        .tls(mode)
        .timeout(Some(TIMEOUT));
    if let Some((user, password)) = login {
        transport = transport.credentials(Credentials::new(
            user.expose().to_string(),
            password.expose().to_string(),
        ));
    }
    transport
        .build()
        .send(&message)
        .map(|_| server.shown())
        .map_err(|e| crate::redact::urls(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_name_their_tls() {
        let s = Server::parse("smtps://smtp.example.com").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.implicit_tls, s.loopback),
            ("smtp.example.com", 465, true, false)
        );
        let s = Server::parse("smtp://smtp.example.com:2525").unwrap();
        assert_eq!((s.port, s.implicit_tls), (2525, false));
        assert!(Server::parse("smtp://127.0.0.1:2525").unwrap().loopback);
        assert!(Server::parse("smtp://[::1]:25").unwrap().loopback);
        // The login never crosses a network in clear: only a loopback relay may answer without TLS.
        let mode = |url: &str| Server::parse(url).unwrap().tls();
        assert_eq!(mode("smtps://smtp.example.com"), TlsMode::Implicit);
        assert_eq!(mode("smtp://smtp.example.com"), TlsMode::StartTlsRequired);
        assert_eq!(mode("smtp://10.0.0.5:25"), TlsMode::StartTlsRequired);
        assert_eq!(mode("smtp://localhost:25"), TlsMode::StartTlsIfOffered);
        assert_eq!(mode("smtps://127.0.0.1"), TlsMode::Implicit);
        for bad in [
            "smtp.example.com",
            "http://smtp.example.com",
            "smtp://user:pw@smtp.example.com",
            "smtp://smtp.example.com:port",
            "smtp://",
        ] {
            assert!(Server::parse(bad).is_err(), "{bad}");
        }
    }
}
