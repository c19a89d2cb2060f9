//! Why this exists: the next version and the changelog both come from commit messages written to
//! Conventional Commits 1.0. This parses one message — type, scope, `!`, description, body,
//! footers, `BREAKING CHANGE`, reverts, merges, `(#123)` pull request references — into plain data.

use serde::Serialize;

/// A commit message, parsed. Non-conventional messages have `kind: None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParsedMessage {
    /// The type (`feat`, `fix`, …), lower-cased; `None` when the header is not conventional.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The scope inside parentheses.
    pub scope: Option<String>,
    /// `!` in the header or a `BREAKING CHANGE`/`BREAKING-CHANGE` footer.
    pub breaking: bool,
    /// What the breaking change is (the footer's text, else the description).
    pub breaking_description: Option<String>,
    /// The description after `: ` (the whole first line for non-conventional messages), with
    /// trailing `(#123)` references removed.
    pub description: String,
    /// The body between the header and the footers.
    pub body: Option<String>,
    /// Footers as (token, value).
    pub footers: Vec<(String, String)>,
    /// Pull request numbers: `(#123)` in the header, `Merge pull request #123`.
    pub pull_requests: Vec<u64>,
    /// For reverts: the reverted commit (`This reverts commit <sha>.`), when given.
    pub reverts: Option<String>,
    /// A merge commit (more than one parent, or `Merge pull request …`, `Merge branch …`): its
    /// changes come through the merged commits, so it counts for neither version nor changelog.
    pub merge: bool,
    /// The header had no colon (`docs(README) fix`): the type counts only when it is a known type
    /// or alias (see [`crate::plan::changelog::Rules`]).
    #[serde(skip)]
    pub colonless: bool,
}

/// Parses a whole commit message.
pub fn parse(message: &str) -> ParsedMessage {
    // Every commit of a whole-history changelog comes through here: copy only what is kept.
    let crlf;
    let message = if message.contains('\r') {
        crlf = message.replace("\r\n", "\n");
        crlf.as_str()
    } else {
        message
    };
    let mut lines = message.trim_start_matches('\n').lines();
    let header = lines.next().unwrap_or_default().trim();
    let rest: Vec<&str> = lines.collect();
    let (body, footers) = split_body_and_footers(&rest);

    let merge = header.starts_with("Merge pull request ")
        || header.starts_with("Merge branch ")
        || header.starts_with("Merge remote-tracking branch ");
    let mut pull_requests = Vec::new();
    if let Some(n) = header.strip_prefix("Merge pull request #").and_then(leading_number) {
        pull_requests.push(n);
    }
    let (header_text, refs) = strip_pr_refs(header);
    pull_requests.extend(refs);

    let mut parsed = ParsedMessage {
        kind: None,
        scope: None,
        breaking: false,
        breaking_description: None,
        description: String::new(),
        body,
        footers,
        pull_requests,
        reverts: None,
        merge,
        colonless: false,
    };

    if let Some(reverted) = header_text.strip_prefix("Revert \"").and_then(|r| r.strip_suffix('"')) {
        parsed.kind = Some("revert".into());
        parsed.description = reverted.to_string();
    } else if let Some((mut kind, scope, bang, description)) = conventional_header(&header_text) {
        kind.make_ascii_lowercase();
        parsed.kind = Some(kind);
        parsed.scope = scope;
        parsed.breaking = bang;
        parsed.description = description;
    } else if let Some((mut kind, scope, bang, description)) = colonless_header(&header_text) {
        kind.make_ascii_lowercase();
        parsed.kind = Some(kind);
        parsed.scope = Some(scope);
        parsed.breaking = bang;
        parsed.description = description;
        parsed.colonless = true;
    } else {
        parsed.description = header_text;
    }
    if parsed.kind.as_deref() == Some("revert") {
        parsed.reverts = parsed.body.as_deref().and_then(reverted_sha);
    }
    if let Some((_, text)) = parsed
        .footers
        .iter()
        .find(|(token, _)| token == "BREAKING CHANGE" || token == "BREAKING-CHANGE")
    {
        parsed.breaking = true;
        parsed.breaking_description = Some(text.clone());
    }
    if parsed.breaking && parsed.breaking_description.is_none() {
        parsed.breaking_description = Some(parsed.description.clone());
    }
    parsed
}

/// `type(scope)!: description`.
fn conventional_header(header: &str) -> Option<(String, Option<String>, bool, String)> {
    let (prefix, description) = header.split_once(": ")?;
    let description = description.trim();
    if description.is_empty() {
        return None;
    }
    let (prefix, bang) = match prefix.strip_suffix('!') {
        Some(p) => (p, true),
        None => (prefix, false),
    };
    let (kind, scope) = match prefix.split_once('(') {
        Some((kind, rest)) => {
            let scope = rest.strip_suffix(')')?;
            if scope.is_empty() || scope.contains(['(', ')']) {
                return None;
            }
            (kind, Some(scope.trim().to_string()))
        }
        None => (prefix, None),
    };
    let is_word = !kind.is_empty()
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    is_word.then(|| (kind.to_string(), scope, bang, description.to_string()))
}

/// `type(scope) description` — a scoped header that lost its colon (`docs(README) fix`): the
/// regex `^([A-Za-z]+)\(([^():]+)\)(!)? +(\S.*)$`, written out (it runs on every header that is
/// not conventional, and a hand-written match is several times faster than the regex engine).
fn colonless_header(header: &str) -> Option<(String, String, bool, String)> {
    let (kind, rest) = header.split_once('(')?;
    let (scope, rest) = rest.split_once(')')?;
    if kind.is_empty()
        || !kind.bytes().all(|b| b.is_ascii_alphabetic())
        || scope.is_empty()
        || scope.contains(['(', ':'])
    {
        return None;
    }
    let (bang, rest) = rest.strip_prefix('!').map_or((false, rest), |rest| (true, rest));
    let description = rest.trim_start_matches(' ');
    let first = description.chars().next()?;
    if description.len() == rest.len() || first.is_whitespace() || description.contains('\n') {
        return None;
    }
    Some((
        kind.to_string(),
        scope.trim().to_string(),
        bang,
        description.trim().to_string(),
    ))
}

/// Removes trailing ` (#123)` groups (squash-merge titles), returning the numbers.
fn strip_pr_refs(header: &str) -> (String, Vec<u64>) {
    let mut text = header.trim_end().to_string();
    let mut refs = Vec::new();
    while text.ends_with(')')
        && let Some(open) = text.rfind(" (#")
    {
        let inner = &text[open + 3..];
        match inner.strip_suffix(')').and_then(|n| n.parse::<u64>().ok()) {
            Some(n) => {
                refs.insert(0, n);
                text.truncate(open);
            }
            None => break,
        }
    }
    (text, refs)
}

fn leading_number(text: &str) -> Option<u64> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn reverted_sha(body: &str) -> Option<String> {
    let at = body.find("This reverts commit ")?;
    let sha: String = body[at + 20..].chars().take_while(char::is_ascii_hexdigit).collect();
    (sha.len() >= 7).then_some(sha)
}

/// A footer line starts `Token: value` or `Token #value`; tokens use `-` for spaces, except
/// `BREAKING CHANGE`.
fn footer_start(line: &str) -> Option<(String, String)> {
    if let Some(rest) = line.strip_prefix("BREAKING CHANGE: ") {
        return Some(("BREAKING CHANGE".into(), rest.trim().to_string()));
    }
    let (token, value) = match line.split_once(": ") {
        Some((t, v)) if !t.contains(' ') => (t, v),
        _ => {
            let (t, v) = line.split_once(" #")?;
            if t.contains(' ') {
                return None;
            }
            return Some((t.to_string(), format!("#{}", v.trim())));
        }
    };
    let valid = !token.is_empty() && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then(|| (token.to_string(), value.trim().to_string()))
}

/// Splits the lines after the header into body and footers: footers are the last paragraph
/// whose first line is a footer.
fn split_body_and_footers(lines: &[&str]) -> (Option<String>, Vec<(String, String)>) {
    let paragraph_start = lines
        .iter()
        .enumerate()
        .filter(|(i, line)| !line.trim().is_empty() && (*i == 0 || lines[i - 1].trim().is_empty()))
        .map(|(i, _)| i)
        .rev()
        .find(|&i| footer_start(lines[i]).is_some());
    let (body_lines, footer_lines) = match paragraph_start {
        Some(start) => (&lines[..start], &lines[start..]),
        None => (lines, &[][..]),
    };
    let mut footers: Vec<(String, String)> = Vec::new();
    for line in footer_lines {
        match footer_start(line) {
            Some(footer) => footers.push(footer),
            None => {
                if let Some((_, value)) = footers.last_mut() {
                    value.push('\n');
                    value.push_str(line);
                }
            }
        }
    }
    for (_, value) in &mut footers {
        *value = value.trim_end().to_string();
    }
    let body = body_lines.join("\n").trim().to_string();
    ((!body.is_empty()).then_some(body), footers)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The hand-written match says what the regex it replaced says, on headers built from the
        /// characters that matter to it (Unicode spaces and letters included).
        #[test]
        fn colonless_header_is_its_regex(
            parts in (
                proptest::sample::select(vec!["docs", "Fix", "a1", "", "é", "x y"]),
                proptest::sample::select(vec!["(", "", "(("]),
                proptest::sample::select(vec!["api", " x ", "a:b", "(", "", "é", " "]),
                proptest::sample::select(vec![")", "", "))", "):"]),
                proptest::sample::select(vec!["!", "", "!!"]),
                proptest::sample::select(vec!["", " ", "  ", "\t", "\u{a0}", " \u{a0}"]),
                proptest::sample::select(vec!["fix it", " x", "\u{a0}y", "", "é", "!", "a (b) c", "\r"]),
            )
        ) {
            let (a, b, c, d, e, f, g) = parts;
            let parts = [a, b, c, d, e, f, g];
            let header = parts.concat();
            let re = regex::Regex::new(r"^([A-Za-z]+)\(([^():]+)\)(!)? +(\S.*)$").unwrap();
            let expected = re.captures(&header).map(|caps| {
                (caps[1].to_string(), caps[2].trim().to_string(), caps.get(3).is_some(), caps[4].trim().to_string())
            });
            proptest::prop_assert_eq!(colonless_header(&header), expected, "{:?}", header);
        }
    }

    #[test]
    fn header_with_scope_and_bang() {
        let p = parse("feat(api)!: drop v1 endpoints");
        assert_eq!(p.kind.as_deref(), Some("feat"));
        assert_eq!(p.scope.as_deref(), Some("api"));
        assert!(p.breaking);
        assert_eq!(p.description, "drop v1 endpoints");
        assert_eq!(p.breaking_description.as_deref(), Some("drop v1 endpoints"));
    }

    #[test]
    fn body_and_footers() {
        let p = parse(
            "fix: handle empty input\n\nThe parser crashed on empty files.\n\nSecond paragraph.\n\nReviewed-by: Z\nRefs #133\nBREAKING CHANGE: empty input is now an error\n  spanning two lines\n",
        );
        assert_eq!(
            p.body.as_deref(),
            Some("The parser crashed on empty files.\n\nSecond paragraph.")
        );
        assert_eq!(p.footers[0], ("Reviewed-by".into(), "Z".into()));
        assert_eq!(p.footers[1], ("Refs".into(), "#133".into()));
        assert!(p.breaking);
        assert_eq!(
            p.breaking_description.as_deref(),
            Some("empty input is now an error\n  spanning two lines")
        );
    }

    #[test]
    fn breaking_change_with_hyphen() {
        assert!(parse("refactor: x\n\nBREAKING-CHANGE: y").breaking);
        assert!(!parse("refactor: x\n\nbreaking change: y").breaking);
    }

    #[test]
    fn squash_merge_titles_carry_pr_numbers() {
        let p = parse("feat(ui): dark mode (#123)");
        assert_eq!(p.pull_requests, vec![123]);
        assert_eq!(p.description, "dark mode");
        let p = parse("fix: a (#1) (#2)");
        assert_eq!(p.pull_requests, vec![1, 2]);
        assert_eq!(p.description, "a");
    }

    #[test]
    fn merges_are_marked() {
        let p = parse("Merge pull request #45 from acme/feature\n\nfeat: thing");
        assert!(p.merge);
        assert_eq!(p.pull_requests, vec![45]);
        assert!(parse("Merge branch 'main' into dev").merge);
    }

    #[test]
    fn reverts_both_ways() {
        let p = parse("Revert \"feat: add x\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.");
        assert_eq!(p.kind.as_deref(), Some("revert"));
        assert_eq!(p.description, "feat: add x");
        assert_eq!(p.reverts.as_deref(), Some("0123456789abcdef0123456789abcdef01234567"));
        let p = parse("revert: feat: add x\n\nThis reverts commit abcdef1.");
        assert_eq!(p.kind.as_deref(), Some("revert"));
        assert_eq!(p.reverts.as_deref(), Some("abcdef1"));
    }

    #[test]
    fn non_conventional_messages() {
        for message in [
            "Update README",
            "feat:no space",
            "feat: ",
            "fe at: x",
            "feat(): x",
            "WIP",
        ] {
            let p = parse(message);
            assert_eq!(p.kind, None, "{message}");
            assert!(!p.breaking, "{message}");
        }
        assert_eq!(parse("Update README").description, "Update README");
    }

    #[test]
    fn type_is_case_insensitive() {
        assert_eq!(parse("FEAT: shout").kind.as_deref(), Some("feat"));
    }

    #[test]
    fn a_body_that_looks_like_prose_is_not_a_footer() {
        let p = parse("fix: x\n\nThis fixes the bug: it was bad.");
        assert!(p.footers.is_empty());
        assert_eq!(p.body.as_deref(), Some("This fixes the bug: it was bad."));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_message(message in "\\PC{0,200}(\n\\PC{0,80}){0,6}") {
            let _ = parse(&message);
        }
    }
}
