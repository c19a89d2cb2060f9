//! Why this exists: action.yml and the README's inputs/outputs tables must never drift from what
//! the binary reads and writes. Both are generated from the declarations here, and a test fails
//! when the committed files differ (`TAMMA_BLESS=1 cargo test` rewrites them).

/// One declared action input.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec {
    /// The input name as workflows write it (`dry-run`).
    pub name: &'static str,
    /// What it does and what is allowed.
    pub description: &'static str,
    /// The default action.yml declares (may be an expression).
    pub default: &'static str,
    /// Whether the value is a secret that must be masked first.
    pub secret: bool,
}

/// One declared action output.
#[derive(Debug, Clone, Copy)]
pub struct OutputSpec {
    /// The output name.
    pub name: &'static str,
    /// What it holds.
    pub description: &'static str,
}

/// Every input, in the order action.yml lists them. Inputs a `workflow_dispatch` form may set
/// default to empty in action.yml (the runner always passes defaults, and only an empty input is
/// filled from the form); what empty means is applied in code and said in the description.
pub const INPUTS: &[InputSpec] = &[
    InputSpec {
        name: "command",
        description: "What to run: `release` (the whole pipeline), `plan` (only print what a release would do), `validate` (plan, then the validation gates) or `rollback` (put the release `version` names — default the highest stable release — back from its journal), `history` (the releases and where every channel points now, in the job summary; only reads) or `status` (`history`, failing when a channel pointer was moved outside a release: for a scheduled monitoring workflow). Empty means `release`.",
        default: "",
        secret: false,
    },
    InputSpec {
        name: "dry-run",
        description: "`true` walks the whole pipeline and writes nothing anywhere: no GitHub, registry or git writes. A release's dry run needs no token; a rollback's reads the release's journal, so it does. Empty means `false`.",
        default: "",
        secret: false,
    },
    InputSpec {
        name: "github-token",
        description: "Token for the GitHub API (needs `contents: write` to publish). Masked before anything is printed.",
        default: "${{ github.token }}",
        secret: true,
    },
    InputSpec {
        name: "npm-token",
        description: "Token for the npm registry (publish rights). Empty, with `permissions: id-token: write`: npm trusted publishing (the workflow's OIDC identity is exchanged for a short-lived token per package). Masked before anything is printed.",
        default: "",
        secret: true,
    },
    InputSpec {
        name: "registry-username",
        description: "User for the container registry (for ghcr.io: `${{ github.actor }}`).",
        default: "",
        secret: false,
    },
    InputSpec {
        name: "registry-password",
        description: "Password or token for the container registry (ghcr.io takes the GitHub token with `packages: write`). Masked before anything is printed.",
        default: "",
        secret: true,
    },
    InputSpec {
        name: "deploy-secret",
        description: "Key that signs the staging deploy webhook (header `X-Tamma-Signature-256: sha256=<hex HMAC of the body>`). Masked before anything is printed.",
        default: "",
        secret: true,
    },
    InputSpec {
        name: "signing-key",
        description: "An ASCII-armored OpenPGP secret key (`gpg --armor --export-secret-keys KEYID`): the release adds `SHA256SUMS.asc`, a detached signature of `SHA256SUMS` (`gpg --verify SHA256SUMS.asc SHA256SUMS`). Checked before anything is built. Masked before anything is printed.",
        default: "",
        secret: true,
    },
    InputSpec {
        name: "signing-passphrase",
        description: "The passphrase of `signing-key`, when it has one. Masked before anything is printed.",
        default: "",
        secret: true,
    },
    InputSpec {
        name: "slack-webhook",
        description: "A Slack incoming-webhook URL told about success and failure (a failed notification is only a warning). Masked before anything is printed.",
        default: "",
        secret: true,
    },
    InputSpec {
        name: "smtp-username",
        description: "The user the SMTP server of `[notify] email` logs in with. Masked before anything is printed.",
        default: "",
        secret: true,
    },
    InputSpec {
        name: "smtp-password",
        description: "The password of `smtp-username`. Sent only over TLS (a relay on a loopback address that offers none excepted). Masked before anything is printed.",
        default: "",
        secret: true,
    },
    InputSpec {
        name: "version",
        description: "The version to release (semver, without the tag prefix). Empty on a tag push: the pushed tag is the version. With `command: rollback`, the version to roll back; empty means the highest stable release (so a second run changes nothing), and a prerelease needs its version.",
        default: "",
        secret: false,
    },
    InputSpec {
        name: "bump",
        description: "Compute the version instead: `major`, `minor`, `patch`, `premajor`, `preminor`, `prepatch`, `prerelease`, `release` (node-semver's `inc()`), `alpha`, `beta`, `rc` (that prerelease channel), or `auto` (from Conventional Commits). Not on tag pushes. Empty (and no `version`, no pushed tag) means `[release] bump` of the config, by default `auto`.",
        default: "",
        secret: false,
    },
    InputSpec {
        name: "preid",
        description: "The prerelease channel for `bump`, e.g. `alpha`, `beta`, `rc`: `auto` + `beta` gives `1.5.0-beta.0`, then `1.5.0-beta.1`.",
        default: "",
        secret: false,
    },
    InputSpec {
        name: "package",
        description: "With `[release] mode = \"independent\"`: release only this workspace package (by package name) and the packages that must follow it; `version` is then its version. For `rollback`: the package whose `version` is rolled back, with every package released in the same run. Empty means every package with releasable changes.",
        default: "",
        secret: false,
    },
    InputSpec {
        name: "config",
        description: "Path of the config file, relative to the repository root. Empty means `.github/tamma-release.toml`, which may be absent (then the defaults apply).",
        default: "",
        secret: false,
    },
    InputSpec {
        name: "stages",
        description: "Comma-separated stages to run: `plan`, `prepare` (write the version into files), `validate` (gates), `build`, `publish`. Empty runs them all; `plan` always runs.",
        default: "",
        secret: false,
    },
    InputSpec {
        name: "merge",
        description: "In the job after a build matrix: directories holding the partial builds to merge (from actions/download-artifact), separated by spaces or new lines, relative to the workspace; `partials/*` takes every directory in `partials`. Empty builds everything here.",
        default: "",
        secret: false,
    },
];

/// Every output, in the order action.yml lists them.
pub const OUTPUTS: &[OutputSpec] = &[
    OutputSpec {
        name: "released",
        description: "`true` when this run published the release (or found it published, on a re-run); `false` for a dry run, a plan, a build-only run, a release left as a draft, and when there was nothing to release (the step still succeeds).",
    },
    OutputSpec {
        name: "version",
        description: "The released version, e.g. `1.2.3`.",
    },
    OutputSpec {
        name: "tag",
        description: "The release tag, e.g. `v1.2.3`.",
    },
    OutputSpec {
        name: "previous-version",
        description: "The previous release's version; empty for a first release.",
    },
    OutputSpec {
        name: "prerelease",
        description: "`true` when the version has a prerelease part (`1.2.3-rc.1`), else `false`.",
    },
    OutputSpec {
        name: "release-url",
        description: "The GitHub release page; empty in a dry run.",
    },
    OutputSpec {
        name: "release-id",
        description: "The GitHub release id; empty in a dry run.",
    },
    OutputSpec {
        name: "upload-url",
        description: "The release's upload URL (RFC 6570 template, as GitHub returns it); empty in a dry run.",
    },
    OutputSpec {
        name: "assets",
        description: "JSON object: asset name → `{url, size, sha256}` for every verified asset; `{}` in a dry run.",
    },
    OutputSpec {
        name: "npm-packages",
        description: "JSON object: package name → `{version, dist-tag}` for every npm package released; `{}` when none.",
    },
    OutputSpec {
        name: "releases",
        description: "JSON array, one object per release this run made (one per package in independent mode, else one): `{package, version, tag, previous-version, prerelease, released, release-url}`; `[]` when none. With several packages, `version`, `tag` and the other single-release outputs are empty: read this one.",
    },
    OutputSpec {
        name: "images",
        description: "JSON object: image reference (`repo:version`) → manifest digest; `{}` when none.",
    },
    OutputSpec {
        name: "changelog",
        description: "This release's changelog section (Markdown); the release notes add install instructions to it.",
    },
    OutputSpec {
        name: "rolled-back-from",
        description: "`command: rollback`: the version rolled back. Empty otherwise.",
    },
    OutputSpec {
        name: "rolled-back-to",
        description: "`command: rollback`: the version users get again (empty when there was none before).",
    },
];

/// The input with this name.
pub fn input(name: &str) -> Option<&'static InputSpec> {
    INPUTS.iter().find(|i| i.name == name)
}

fn yaml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The whole action.yml.
pub fn render_action_yml() -> String {
    let mut out = String::new();
    out.push_str(
        "# Generated from src/action/spec.rs; `TAMMA_BLESS=1 cargo test` rewrites it. Edit the spec, not this file.\n",
    );
    out.push_str("name: \"tamma-release\"\n");
    out.push_str("description: \"Release a project end to end: version, notes, GitHub release; dry-run first, rollback-ready.\"\n");
    out.push_str("author: \"meywd\"\n");
    out.push_str("branding:\n  icon: \"package\"\n  color: \"purple\"\n");
    out.push_str("inputs:\n");
    for input in INPUTS {
        out.push_str(&format!(
            "  {}:\n    description: {}\n    required: false\n    default: {}\n",
            input.name,
            yaml_string(input.description),
            yaml_string(input.default)
        ));
    }
    out.push_str("outputs:\n");
    for output in OUTPUTS {
        out.push_str(&format!(
            "  {}:\n    description: {}\n",
            output.name,
            yaml_string(output.description)
        ));
    }
    out.push_str("runs:\n  using: \"docker\"\n");
    out.push_str(
        "  # On main the image is built from the Dockerfile; the floating tags (v1) point at a commit where\n  # this line runs the image the release pushed, by digest (release.action-image).\n",
    );
    out.push_str("  image: \"Dockerfile\"\n  args:\n    - \"action\"\n");
    out
}

fn table_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The README's inputs table.
pub fn render_inputs_table() -> String {
    let mut out = String::from("| Input | Default | Description |\n|---|---|---|\n");
    for input in INPUTS {
        let default = if input.default.is_empty() {
            String::from("(empty)")
        } else {
            format!("`{}`", input.default)
        };
        out.push_str(&format!(
            "| `{}` | {default} | {} |\n",
            input.name,
            table_cell(input.description)
        ));
    }
    out
}

/// The README's outputs table.
pub fn render_outputs_table() -> String {
    let mut out = String::from("| Output | Description |\n|---|---|\n");
    for output in OUTPUTS {
        out.push_str(&format!("| `{}` | {} |\n", output.name, table_cell(output.description)));
    }
    out
}
