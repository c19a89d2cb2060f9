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

/// An error annotation, pointing at a file and line when there is one. `workspace` is where
/// relative paths are rooted, so the annotation lands on the right file in the pull request view.
pub fn error(message: &str, location: Option<&FileLocation>, workspace: &Path) -> String {
    match location {
        Some(at) => {
            let file = if at.path.is_absolute() {
                at.path.clone()
            } else {
                workspace.join(&at.path)
            };
            format!(
                "::error file={},line={},col={},title={}::{}",
                escape_property(&file.to_string_lossy()),
                at.line,
                at.column,
                escape_property("tamma-release configuration"),
                escape_data(message)
            )
        }
        None => format!(
            "::error title={}::{}",
            escape_property("tamma-release"),
            escape_data(message)
        ),
    }
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
    fn error_with_location() {
        let at = FileLocation {
            path: ".github/tamma-release.toml".into(),
            line: 3,
            column: 1,
        };
        let line = error("unknown field `x`", Some(&at), Path::new("/github/workspace"));
        assert_eq!(
            line,
            "::error file=/github/workspace/.github/tamma-release.toml,line=3,col=1,title=tamma-release configuration::unknown field `x`"
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
