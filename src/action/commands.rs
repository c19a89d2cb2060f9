//! Why this exists: workflow commands (`::group::`, `::error::`, `::add-mask::`) are parsed by the
//! runner with its own escaping rules (`%`, CR and LF in data; also `:` and `,` in properties); a
//! value that is not escaped corrupts the command or leaks into the log.

use std::path::Path;

use crate::error::FileLocation;

/// Escapes a command's data part (`%` first, as the runner unescapes it last).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a command property value.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `::add-mask::` for a secret, so the runner replaces it with `***` in every later log line.
/// The runner masks log lines one at a time and does not split a masked value, so a multi-line
/// secret (an armored signing key) is also masked line by line, as the runner itself does for
/// repository secrets; lines shorter than four characters are left, since masking them would
/// hide ordinary text everywhere and reveal nothing.
pub fn add_mask(secret: &str) -> String {
    let mut out = format!("::add-mask::{}", escape_data(secret));
    if secret.contains(['\n', '\r']) {
        for line in secret.split(['\n', '\r']).map(str::trim).filter(|l| l.len() >= 4) {
            out.push_str(&format!("\n::add-mask::{}", escape_data(line)));
        }
    }
    out
}

/// `::notice::message`: shown among the run's annotations.
pub fn notice(message: &str) -> String {
    format!("::notice::{}", escape_data(message))
}

/// Opens a collapsible log group.
pub fn group(title: &str) -> String {
    format!("::group::{}", escape_data(title))
}

/// Closes the open log group.
pub fn end_group() -> &'static str {
    "::endgroup::"
}

/// `::error` for a message, titled `title`, at `location` when there is one. GitHub shows an
/// annotation on a file only when `file=` is relative to the repository root: a path inside
/// `workspace` is made relative to it, and an absolute path from elsewhere (a test report written
/// on the runner's host, outside the container) is matched to the longest tail of it that names
/// a file in the workspace; a path that matches nothing is left out rather than given wrong.
pub fn error(title: &str, message: &str, location: Option<&FileLocation>, workspace: &Path) -> String {
    match location.and_then(|at| repository_path(&at.path, workspace).map(|path| (at, path))) {
        Some((at, path)) => format!(
            "::error file={},line={},col={},title={}::{}",
            escape_property(&path),
            at.line,
            at.column,
            escape_property(title),
            escape_data(message)
        ),
        None => format!("::error title={}::{}", escape_property(title), escape_data(message)),
    }
}

/// `path` relative to the repository root `workspace`, with `/` separators.
fn repository_path(path: &Path, workspace: &Path) -> Option<String> {
    let slashed = |p: &Path| {
        p.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    if !path.is_absolute() {
        return Some(slashed(path));
    }
    if let Ok(inside) = path.strip_prefix(workspace) {
        return Some(slashed(inside));
    }
    let parts: Vec<_> = path.components().skip(1).collect();
    (0..parts.len())
        .map(|start| parts[start..].iter().collect::<std::path::PathBuf>())
        .find(|tail| workspace.join(tail).is_file())
        .map(|tail| slashed(&tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_runner() {
        assert_eq!(escape_data("50%\nnext\r"), "50%25%0Anext%0D");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn annotations_name_files_relative_to_the_repository() {
        let workspace = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(workspace.path().join("src")).unwrap();
        std::fs::write(workspace.path().join("src/lib.rs"), "").unwrap();
        let at = |path: &str| FileLocation {
            path: path.into(),
            line: 3,
            column: 1,
        };
        let config = at(".github/tamma-release.toml");
        assert_eq!(
            error(
                "tamma-release configuration",
                "unknown field `x`",
                Some(&config),
                workspace.path()
            ),
            "::error file=.github/tamma-release.toml,line=3,col=1,title=tamma-release configuration::unknown field `x`"
        );
        let inside = at(&workspace.path().join("src/lib.rs").to_string_lossy());
        let host = at("/home/runner/work/widget/widget/src/lib.rs");
        for location in [&inside, &host] {
            assert_eq!(
                error("test failure", "test a failed", Some(location), workspace.path()),
                "::error file=src/lib.rs,line=3,col=1,title=test failure::test a failed"
            );
        }
        assert_eq!(
            error(
                "test failure",
                "gone",
                Some(&at("/elsewhere/none.rs")),
                workspace.path()
            ),
            "::error title=test failure::gone"
        );
    }

    #[test]
    fn multi_line_secrets_are_masked_whole_and_line_by_line() {
        assert_eq!(add_mask("one-line"), "::add-mask::one-line");
        assert_eq!(
            add_mask("-----BEGIN\r\nsecretline\n=ab\n"),
            "::add-mask::-----BEGIN%0D%0Asecretline%0A=ab%0A\n::add-mask::-----BEGIN\n::add-mask::secretline"
        );
    }
}
