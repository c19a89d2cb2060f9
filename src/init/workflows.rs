//! Why this exists: the workflows `init` writes — release on a tag push, rollback from a form —
//! with actions pinned by commit, today's runner, the least permissions the found project needs,
//! and outputs reaching shells only through `env`.

use crate::init::{Node, Project};

const CHECKOUT: &str = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1";
const SETUP_NODE: &str = "actions/setup-node@820762786026740c76f36085b0efc47a31fe5020 # v7.0.0";
const RUNNER: &str = "ubuntu-24.04";

/// `.github/workflows/release.yml`.
pub fn release(project: &Project) -> String {
    let mut out = format!(
        "# Written by `tamma-release init`. Push a tag (git tag v1.2.3 && git push --tags) to release;\n\
         # the tag is the version. Check this file and the config with `tamma-release check`.\n\
         name: release\n\
         on:\n  push:\n    tags: [\"v*\"]\n\
         permissions:\n  contents: read\n\
         concurrency:\n  group: release\n  cancel-in-progress: false\n\
         jobs:\n  release:\n    runs-on: {RUNNER}\n    timeout-minutes: 30\n    permissions:\n"
    );
    out.push_str(&permissions(project, false));
    out.push_str(&format!(
        "    steps:\n      - uses: {CHECKOUT}\n        with:\n          fetch-depth: 0          # earlier tags and commits: the previous version and the notes\n          persist-credentials: false\n"
    ));
    if let Some(node) = project.node {
        out.push_str(&format!(
            "      - uses: {SETUP_NODE}\n        with:\n          node-version: 24\n"
        ));
        match node {
            Node::Pnpm => out.push_str(
                "      - run: npm install --global pnpm@10\n      - run: pnpm install --frozen-lockfile\n      - run: pnpm -r --if-present run build\n",
            ),
            Node::Npm => out.push_str("      - run: npm ci\n      - run: npm run build --if-present\n"),
        }
    }
    if let Some((dir, _)) = &project.book {
        out.push_str(&format!(
            "      - run: cargo install mdbook --locked --version 0.4.52\n      - run: mdbook build {dir}\n"
        ));
    }
    if project.runs_cli() {
        out.push_str(
            "      # cargo and the Docker daemon are on the runner, not in the action's container: run\n\
             \x20     # tamma-release as a CLI here, from its own release archive.\n\
             \x20     - name: Install tamma-release\n\
             \x20       env:\n\
             \x20         GH_TOKEN: ${{ github.token }}\n\
             \x20       run: |\n\
             \x20         gh release download --repo meywd/tamma-release --pattern 'tamma-release-x86_64-unknown-linux-musl.tar.gz' --dir \"$RUNNER_TEMP/tamma\"\n\
             \x20         tar -xzf \"$RUNNER_TEMP/tamma/tamma-release-x86_64-unknown-linux-musl.tar.gz\" -C \"$RUNNER_TEMP/tamma\"\n\
             \x20         echo \"$RUNNER_TEMP/tamma\" >> \"$GITHUB_PATH\"\n\
             \x20     - name: Release\n\
             \x20       env:\n\
             \x20         GITHUB_TOKEN: ${{ github.token }}\n",
        );
        if project.dockerfile {
            out.push_str(
                "          REGISTRY_USERNAME: ${{ github.actor }}\n          REGISTRY_PASSWORD: ${{ github.token }}\n",
            );
        }
        out.push_str(
            "        run: tamma-release release --summary-file \"$GITHUB_STEP_SUMMARY\" --output-file \"$GITHUB_OUTPUT\"\n",
        );
    } else {
        out.push_str("      - id: release\n        uses: meywd/tamma-release@v1\n");
        if !project.npm.is_empty() {
            out.push_str(
                "        # npm: trusted publishing through id-token (configure the trusted publisher on\n\
                 \x20       # npmjs.com for this repository and release.yml), or give a token:\n\
                 \x20       # with:\n\
                 \x20       #   npm-token: ${{ secrets.NPM_TOKEN }}\n",
            );
        }
        out.push_str(
            "      - env:\n          TAG: ${{ steps.release.outputs.tag }}\n        run: echo \"released $TAG\"\n",
        );
    }
    out
}

/// `.github/workflows/rollback.yml`.
pub fn rollback(project: &Project) -> String {
    let mut out = format!(
        "# Written by `tamma-release init`. Roll a release back from the Actions tab: Run workflow,\n\
         # dry run first. Every channel goes back to what it was before that release.\n\
         name: rollback\n\
         on:\n  workflow_dispatch:\n    inputs:\n\
         \x20     version: {{ description: \"Version to roll back (empty: the highest stable release)\", required: false }}\n\
         \x20     dry-run: {{ description: \"Only show what would change\", type: boolean, default: true }}\n\
         permissions:\n  contents: read\n\
         concurrency:\n  group: release\n  cancel-in-progress: false\n\
         jobs:\n  rollback:\n    runs-on: {RUNNER}\n    timeout-minutes: 15\n    permissions:\n"
    );
    out.push_str(&permissions(project, true));
    out.push_str(&format!(
        "    steps:\n      - uses: {CHECKOUT}\n        with:\n          persist-credentials: false\n      - id: rollback\n        uses: meywd/tamma-release@v1\n        with:\n          command: rollback\n"
    ));
    if project.dockerfile {
        out.push_str(
            "          registry-username: ${{ github.actor }}\n          registry-password: ${{ github.token }}\n",
        );
    }
    if !project.npm.is_empty() {
        out.push_str("          npm-token: ${{ secrets.NPM_TOKEN }}   # moving dist-tags back needs a token\n");
    }
    out.push_str(
        "      - env:\n          FROM: ${{ steps.rollback.outputs.rolled-back-from }}\n          TO: ${{ steps.rollback.outputs.rolled-back-to }}\n        run: echo \"rolled back $FROM to $TO\"\n",
    );
    out
}

/// The job's `permissions:` lines: only what the found project needs.
fn permissions(project: &Project, rollback: bool) -> String {
    let mut out = String::from("      contents: write       # the release, its tag and its assets\n");
    if project.dockerfile {
        out.push_str("      packages: write       # the image on ghcr.io\n");
    }
    if project.book.is_some() || project.docs.is_some() {
        out.push_str("      deployments: write    # the docs deployment\n");
    }
    if !project.npm.is_empty() && !rollback {
        out.push_str("      id-token: write       # npm trusted publishing\n");
    }
    out
}
