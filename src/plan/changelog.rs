//! Why this exists: the changelog is what users read, so it is grouped the way they scan it —
//! breaking changes first, then features, fixes, performance, reverts — with links to commits,
//! pull requests and the compare view, and it is deterministic: the same history gives the same
//! bytes. The same classification decides the `auto` bump.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

use serde::Serialize;

use crate::config::{BumpLevel, CommitType, CommitsConfig};
use crate::plan::commits::{ParsedMessage, parse};
use crate::plan::git::CommitInfo;

/// The default types, in changelog order.
const DEFAULT_TYPES: &[(&str, BumpLevel, &str)] = &[
    ("feat", BumpLevel::Minor, "Features"),
    ("fix", BumpLevel::Patch, "Bug Fixes"),
    ("perf", BumpLevel::Patch, "Performance"),
    ("revert", BumpLevel::Patch, "Reverts"),
    ("docs", BumpLevel::None, "Documentation"),
    ("refactor", BumpLevel::None, "Refactoring"),
    ("build", BumpLevel::None, ""),
    ("chore", BumpLevel::None, ""),
    ("ci", BumpLevel::None, ""),
    ("style", BumpLevel::None, ""),
    ("test", BumpLevel::None, ""),
];

/// Misspelled types read as the type meant, unless `[commits] aliases` says otherwise.
pub const DEFAULT_ALIASES: &[(&str, &str)] = &[
    ("doc", "docs"),
    ("feature", "feat"),
    ("features", "feat"),
    ("bugfix", "fix"),
    ("hotfix", "fix"),
    ("fixes", "fix"),
    ("tests", "test"),
    ("refactoring", "refactor"),
];

/// How commits are classified: the defaults with the config's overrides.
#[derive(Debug, Clone)]
pub struct Rules {
    types: Vec<(String, CommitType)>,
    /// (written, meant): a handful, looked up for every commit, so a list.
    aliases: Vec<(String, String)>,
    other: String,
    breaking_before_1: BumpLevel,
}

impl Rules {
    /// The defaults overlaid with `[commits]`.
    pub fn from_config(config: &CommitsConfig) -> Rules {
        let mut types: Vec<(String, CommitType)> = DEFAULT_TYPES
            .iter()
            .map(|(name, bump, section)| {
                (
                    name.to_string(),
                    CommitType {
                        bump: *bump,
                        section: section.to_string(),
                    },
                )
            })
            .collect();
        for (name, rule) in &config.types {
            match types.iter_mut().find(|(n, _)| n == name) {
                Some((_, existing)) => *existing = rule.clone(),
                None => types.push((name.clone(), rule.clone())),
            }
        }
        let mut aliases: BTreeMap<String, String> = DEFAULT_ALIASES
            .iter()
            .map(|(from, to)| (from.to_string(), to.to_string()))
            .collect();
        aliases.extend(
            config
                .aliases
                .iter()
                .map(|(from, to)| (from.to_ascii_lowercase(), to.clone())),
        );
        Rules {
            types,
            aliases: aliases.into_iter().collect(),
            other: config.other.clone(),
            breaking_before_1: config.breaking_before_1,
        }
    }

    fn rule(&self, kind: &str) -> Option<&CommitType> {
        self.types.iter().find(|(n, _)| n == kind).map(|(_, r)| r)
    }

    /// The type a message counts as: its own or what an alias maps it to; `None` for a colon-less
    /// header whose word is no known type (`Update(parser) x` is not a commit type).
    pub fn kind_of<'m>(&'m self, message: &'m ParsedMessage) -> Option<&'m str> {
        let written = message.kind.as_deref()?;
        let kind = self
            .aliases
            .iter()
            .find(|(from, _)| from == written)
            .map_or(written, |(_, to)| to.as_str());
        if message.colonless && self.rule(kind).is_none() {
            return None;
        }
        Some(kind)
    }

    /// The scope and text a changelog line shows: a colon-less header that is no known type is
    /// shown as written.
    pub fn shown<'e>(&self, entry: &'e Entry) -> (Option<&'e str>, &'e str) {
        if entry.parsed.colonless && self.kind_of(&entry.parsed).is_none() {
            return (None, entry.summary.as_str());
        }
        (entry.parsed.scope.as_deref(), entry.parsed.description.as_str())
    }

    /// What one commit bumps; `major_zero` applies `breaking-before-1`.
    pub fn level(&self, message: &ParsedMessage, major_zero: bool) -> BumpLevel {
        if message.merge {
            return BumpLevel::None;
        }
        if message.breaking && (!message.colonless || self.kind_of(message).is_some()) {
            return if major_zero {
                self.breaking_before_1.max(BumpLevel::Minor)
            } else {
                BumpLevel::Major
            };
        }
        self.kind_of(message)
            .and_then(|k| self.rule(k))
            .map_or(BumpLevel::None, |r| r.bump)
    }

    fn section(&self, message: &ParsedMessage) -> Option<&str> {
        let section = match self.kind_of(message) {
            Some(kind) => self.rule(kind).map_or(self.other.as_str(), |r| r.section.as_str()),
            None => self.other.as_str(),
        };
        (!section.is_empty()).then_some(section)
    }

    fn section_order(&self) -> Vec<&str> {
        let mut order: Vec<&str> = Vec::new();
        for (_, rule) in &self.types {
            if !rule.section.is_empty() && !order.contains(&rule.section.as_str()) {
                order.push(&rule.section);
            }
        }
        if !self.other.is_empty() && !order.contains(&self.other.as_str()) {
            order.push(&self.other);
        }
        order
    }
}

/// A commit with its parsed message.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Full hex id.
    pub sha: String,
    /// The author's name.
    pub author: String,
    /// Committer time, seconds since the epoch.
    pub time: i64,
    /// The first line of the message as written.
    pub summary: String,
    /// The parsed message.
    #[serde(flatten)]
    pub parsed: ParsedMessage,
}

impl Entry {
    /// Parses a commit. A commit with more than one parent is a merge, whatever its message says.
    pub fn new(commit: CommitInfo) -> Entry {
        let mut parsed = parse(&commit.message);
        parsed.merge |= commit.parents > 1;
        Entry {
            summary: commit.summary().to_string(),
            sha: commit.id,
            author: commit.author,
            time: commit.time,
            parsed,
        }
    }
}

/// The highest bump among `entries`, or `None` when nothing releasable happened.
pub fn level_of(entries: &[Entry], rules: &Rules, major_zero: bool) -> Option<BumpLevel> {
    entries
        .iter()
        .map(|e| rules.level(&e.parsed, major_zero))
        .max()
        .filter(|l| *l != BumpLevel::None)
}

/// One release's part of the changelog.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// The version, or `None` for unreleased changes.
    pub version: Option<String>,
    /// The release's tag.
    pub tag: Option<String>,
    /// The tag compared against.
    pub previous_tag: Option<String>,
    /// The release commit's committer time.
    pub time: Option<i64>,
    /// The commits, newest first.
    pub commits: Vec<Entry>,
}

/// Renders sections as Markdown, newest first. `repository_url` enables links.
pub fn markdown(sections: &[Section], rules: &Rules, repository_url: Option<&str>) -> String {
    sections
        .iter()
        .map(|s| markdown_section(s, rules, repository_url))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One section as Markdown.
pub fn markdown_section(section: &Section, rules: &Rules, url: Option<&str>) -> String {
    let mut out = String::new();
    let title = match (&section.version, &section.tag, url) {
        (Some(v), Some(tag), Some(url)) => match &section.previous_tag {
            Some(prev) => format!("[{v}]({url}/compare/{prev}...{tag})"),
            None => format!("[{v}]({url}/tree/{tag})"),
        },
        (Some(v), _, _) => v.clone(),
        (None, _, _) => "Unreleased".to_string(),
    };
    let date = section
        .time
        .map(|t| format!(" ({})", crate::dates::iso_date(t)))
        .unwrap_or_default();
    let _ = writeln!(out, "## {title}{date}");

    let reverted = reverted_pairs(&section.commits);
    let shown: Vec<&Entry> = section
        .commits
        .iter()
        .filter(|e| !e.parsed.merge && !reverted.contains(e.sha.as_str()))
        .collect();

    let breaking: Vec<&&Entry> = shown.iter().filter(|e| e.parsed.breaking).collect();
    if !breaking.is_empty() {
        out.push_str("\n### ⚠ BREAKING CHANGES\n\n");
        for entry in breaking {
            let text = entry
                .parsed
                .breaking_description
                .as_deref()
                .unwrap_or(&entry.parsed.description);
            push_line(&mut out, entry, entry.parsed.scope.as_deref(), text, url);
        }
    }
    let mut groups: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for entry in &shown {
        if let Some(section) = rules.section(&entry.parsed) {
            groups.entry(section).or_default().push(entry);
        }
    }
    let mut any = false;
    for heading in rules.section_order() {
        if let Some(entries) = groups.get(heading) {
            any = true;
            let _ = write!(out, "\n### {heading}\n\n");
            for entry in entries {
                let (scope, text) = rules.shown(entry);
                push_line(&mut out, entry, scope, text, url);
            }
        }
    }
    if !any && !shown.iter().any(|e| e.parsed.breaking) {
        out.push_str("\nNo user-facing changes.\n");
    }
    out
}

/// Commits that a revert in the same range undoes, and those reverts: both stay out.
fn reverted_pairs(entries: &[Entry]) -> HashSet<&str> {
    let mut out = HashSet::new();
    for revert in entries.iter().filter(|e| e.parsed.kind.as_deref() == Some("revert")) {
        let Some(target) = revert.parsed.reverts.as_deref() else {
            continue;
        };
        if let Some(undone) = entries.iter().find(|e| e.sha.starts_with(target)) {
            out.insert(undone.sha.as_str());
            out.insert(revert.sha.as_str());
        }
    }
    out
}

/// One changelog line, written into `out` (a whole-history changelog writes 100,000s of them:
/// one buffer, no string per piece).
fn push_line(out: &mut String, entry: &Entry, scope: Option<&str>, text: &str, url: Option<&str>) {
    out.push_str("- ");
    if let Some(scope) = scope {
        out.push_str("**");
        push_inline(out, scope);
        out.push_str(":** ");
    }
    for (i, part) in text.lines().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        push_inline(out, part);
    }
    out.push_str(" (");
    for n in &entry.parsed.pull_requests {
        let _ = match url {
            Some(url) => write!(out, "[#{n}]({url}/pull/{n}), "),
            None => write!(out, "#{n}, "),
        };
    }
    let short = &entry.sha[..entry.sha.len().min(7)];
    let _ = match url {
        Some(url) => write!(out, "[{short}]({url}/commit/{})", entry.sha),
        None => write!(out, "{short}"),
    };
    out.push_str(")\n");
}

/// Keeps text on one line and out of HTML.
fn push_inline(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.bytes().position(|b| b == b'<' || b == b'>') {
        out.push_str(&rest[..at]);
        out.push_str(if rest.as_bytes()[at] == b'<' { "&lt;" } else { "&gt;" });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sha: &str, message: &str) -> Entry {
        Entry::new(CommitInfo {
            id: sha.repeat(40 / sha.len()),
            author: "A".into(),
            time: 0,
            message: message.into(),
            parents: 1,
        })
    }

    fn rules() -> Rules {
        Rules::from_config(&CommitsConfig::default())
    }

    #[test]
    fn levels() {
        let r = rules();
        let e = |m: &str| entry("a", m);
        assert_eq!(level_of(&[e("docs: x"), e("chore: y")], &r, false), None);
        assert_eq!(
            level_of(&[e("fix: x"), e("feat: y")], &r, false),
            Some(BumpLevel::Minor)
        );
        assert_eq!(level_of(&[e("fix!: x")], &r, false), Some(BumpLevel::Major));
        assert_eq!(level_of(&[e("fix!: x")], &r, true), Some(BumpLevel::Minor));
        assert_eq!(
            level_of(&[e("Merge pull request #1 from a/b\n\nfeat: x")], &r, false),
            None
        );
        let strict = Rules::from_config(&CommitsConfig {
            breaking_before_1: BumpLevel::Major,
            ..CommitsConfig::default()
        });
        assert_eq!(
            level_of(&[e("feat: x\n\nBREAKING CHANGE: y")], &strict, true),
            Some(BumpLevel::Major)
        );
    }

    #[test]
    fn aliases_and_colonless_headers() {
        let r = rules();
        let e = |m: &str| entry("a", m);
        assert_eq!(level_of(&[e("feature: x")], &r, false), Some(BumpLevel::Minor));
        assert_eq!(level_of(&[e("bugfix(api): x")], &r, false), Some(BumpLevel::Patch));
        let docs = e("docs(README) fix the install line");
        assert_eq!(r.kind_of(&docs.parsed), Some("docs"));
        assert_eq!(docs.parsed.description, "fix the install line");
        let doc = e("doc: spelling");
        assert_eq!(r.kind_of(&doc.parsed), Some("docs"));
        let section = Section {
            version: Some("1.0.1".into()),
            tag: None,
            previous_tag: None,
            time: None,
            commits: vec![doc, docs, e("Update(parser) handles tabs"), e("fix(x) y")],
        };
        let md = markdown_section(&section, &r, None);
        assert!(
            md.contains("### Documentation\n\n- spelling") && md.contains("- **README:** fix the install line"),
            "{md}"
        );
        assert!(md.contains("### Bug Fixes\n\n- **x:** y"), "{md}");
        assert!(md.contains("### Other\n\n- Update(parser) handles tabs"), "{md}");
        let own = Rules::from_config(&CommitsConfig {
            aliases: [("feature".to_string(), "chore".to_string())].into(),
            ..CommitsConfig::default()
        });
        assert_eq!(level_of(&[e("feature: x")], &own, false), None, "the config wins");
        let merge = Entry::new(CommitInfo {
            id: "m".repeat(40),
            author: "A".into(),
            time: 0,
            message: "next major (#3111)".into(),
            parents: 2,
        });
        assert!(merge.parsed.merge);
    }

    #[test]
    fn reverted_pairs_cancel_out() {
        let section = Section {
            version: Some("1.1.0".into()),
            tag: Some("v1.1.0".into()),
            previous_tag: None,
            time: None,
            commits: vec![
                entry("b", "Revert \"feat: x\"\n\nThis reverts commit aaaaaaaa."),
                entry("a", "feat: x"),
                entry("c", "fix: y"),
            ],
        };
        let md = markdown_section(&section, &rules(), None);
        assert!(!md.contains("feat: x") && !md.contains("- x ("), "{md}");
        assert!(md.contains("- y (ccccccc)"), "{md}");
    }
}
