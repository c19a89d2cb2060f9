//! tamma-release: a whole release — version, notes, GitHub release — planned first, staged, then
//! published, from a GitHub Action or the same binary on the command line.
//!
//! The library reads no process environment and prints nothing: the binary's edges (CLI and the
//! Actions edge) gather inputs into a [`request::ReleaseRequest`], call [`pipeline::run`], and
//! render the [`report::RunReport`] it returns.

#![warn(missing_docs)]

pub mod action;
pub mod build;
pub mod check;
pub mod config;
pub mod context;
pub mod dates;
pub mod error;
pub mod history;
pub mod http;
pub mod init;
pub mod packages;
pub mod pipeline;
pub mod plan;
pub mod prepare;
pub mod redact;
pub mod report;
pub mod request;
pub mod secret;
pub mod targets;
pub mod txn;
pub mod validate;
pub mod workspaces;
