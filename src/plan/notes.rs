//! Why this exists: every release carries notes. Until the Conventional Commits changelog lands,
//! notes list the commits since the previous release, newest first, with a compare link.

use crate::plan::git::CommitInfo;

/// Renders release notes for `commits` (newest first).
pub fn render(
    commits: &[CommitInfo],
    repository_url: Option<&str>,
    previous_tag: Option<&str>,
    tag: &str,
) -> String {
    let mut out = String::from("## What's changed\n\n");
    if commits.is_empty() {
        out.push_str("No commits since the previous release.\n");
    }
    for commit in commits {
        let short = &commit.id[..commit.id.len().min(7)];
        let link = match repository_url {
            Some(url) => format!("[`{short}`]({url}/commit/{})", commit.id),
            None => format!("`{short}`"),
        };
        out.push_str(&format!(
            "- {} ({link})\n",
            escape_markdown(&commit.summary)
        ));
    }
    if let (Some(url), Some(previous)) = (repository_url, previous_tag) {
        out.push_str(&format!(
            "\n**Full changelog**: {url}/compare/{previous}...{tag}\n"
        ));
    }
    out
}

/// Keeps a commit subject from turning into Markdown structure (headings, HTML, links).
fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '<' | '>' | '[' | ']' | '*' | '_' | '`' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_commits_and_compare_link() {
        let commits = vec![CommitInfo {
            id: "0123456789abcdef".into(),
            summary: "fix: <b>bold</b> [x]".into(),
        }];
        let notes = render(
            &commits,
            Some("https://github.com/o/r"),
            Some("v1.0.0"),
            "v1.1.0",
        );
        assert!(notes.contains("- fix: \\<b\\>bold\\</b\\> \\[x\\] ([`0123456`](https://github.com/o/r/commit/0123456789abcdef))"), "{notes}");
        assert!(
            notes.contains("https://github.com/o/r/compare/v1.0.0...v1.1.0"),
            "{notes}"
        );
    }

    #[test]
    fn empty_range_says_so() {
        assert!(render(&[], None, None, "v1.0.0").contains("No commits"));
    }
}
