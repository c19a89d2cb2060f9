//! Integration tests: they run the real binary in temporary git repositories.

mod action;
mod build;
mod cli;
mod deploy;
mod fuzz;
mod generated;
mod github;
mod guide;
mod histories;
mod hostile_inputs;
mod hostile_paths;
mod hostile_servers;
mod http;
mod image;
mod lock;
mod monorepo;
mod prepare;
mod registries;
mod registry_features;
mod selfrelease;
mod semver_node;
mod support;
mod transaction;
mod validate;
mod versions;
mod workflows;
