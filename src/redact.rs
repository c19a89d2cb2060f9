//! Why this exists: URLs carry credentials — `https://user:token@registry/` in a package.json,
//! `https://hooks.example.com/x?token=…` in a webhook — and a release writes text to many places
//! that others read: logs, the job summary, annotations, the journal and plan attached to a public
//! release, deployment descriptions, notifications. Every URL that leaves the process as text goes
//! through [`urls`]: its user info and its query are replaced by `***`. A registry's identity (what
//! the journal records and compares) is [`registry_url`]: the URL with neither.

/// Characters that end a URL inside running text.
fn ends_url(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '"' | '\'' | '<' | '>' | '`' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '\\'
        )
}

/// `text` with every `scheme://…` URL's user info (`user:password@`) and query (`?…`) replaced by
/// `***`, and its fragment dropped; everything else is kept as it was.
pub fn urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.find("://") {
        // The scheme: the letters, digits and + - . right before `://`.
        let scheme_start = rest[..found]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || "+-.".contains(*c)))
            .map_or(0, |(i, c)| i + c.len_utf8());
        if scheme_start == found {
            out.push_str(&rest[..found + 3]);
            rest = &rest[found + 3..];
            continue;
        }
        out.push_str(&rest[..scheme_start]);
        let url_end = rest[found + 3..].find(ends_url).map_or(rest.len(), |i| found + 3 + i);
        out.push_str(&redact_one(&rest[scheme_start..url_end]));
        rest = &rest[url_end..];
    }
    out.push_str(rest);
    out
}

fn redact_one(url: &str) -> String {
    let (scheme, after) = url.split_at(url.find("://").map_or(0, |i| i + 3));
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, tail) = after.split_at(authority_end);
    let host = match authority.rfind('@') {
        Some(at) => format!("***@{}", &authority[at + 1..]),
        None => authority.to_string(),
    };
    let (path, query) = match tail.find(['?', '#']) {
        Some(i) => (&tail[..i], &tail[i..]),
        None => (tail, ""),
    };
    let query = match query.strip_prefix('?') {
        Some(q) if !q.split('#').next().unwrap_or_default().is_empty() => "?***",
        _ => "",
    };
    format!("{scheme}{host}{path}{query}")
}

/// A registry URL as an identity: scheme, host and path, without user info, query, fragment or a
/// trailing `/`. The second value says whether credentials were dropped.
pub fn registry_url(url: &str) -> (String, bool) {
    let url = url.trim();
    let (scheme, after) = url.split_at(url.find("://").map_or(0, |i| i + 3));
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, tail) = after.split_at(authority_end);
    let (host, had_credentials) = match authority.rfind('@') {
        Some(at) => (&authority[at + 1..], true),
        None => (authority, false),
    };
    let path = tail.split(['?', '#']).next().unwrap_or_default().trim_end_matches('/');
    (format!("{scheme}{}{path}", host.to_ascii_lowercase()), had_credentials)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_and_queries_are_hidden() {
        assert_eq!(
            urls("the deploy webhook https://ci:s3cret@deploy.example.com/hook?token=abc answered 500"),
            "the deploy webhook https://***@deploy.example.com/hook?*** answered 500"
        );
        assert_eq!(
            urls("error sending request for url (http://u:p@127.0.0.1:9/x?y=1#frag)"),
            "error sending request for url (http://***@127.0.0.1:9/x?***)"
        );
        assert_eq!(urls("\"http://a:b@h/\""), "\"http://***@h/\"");
        assert_eq!(
            urls("pushed 127.0.0.1:5000/acme/widget:1.0.0"),
            "pushed 127.0.0.1:5000/acme/widget:1.0.0"
        );
        assert_eq!(
            urls("see https://github.com/acme/x/releases"),
            "see https://github.com/acme/x/releases"
        );
        assert_eq!(urls("odd :// and x://"), "odd :// and x://");
        assert_eq!(urls("ümlaut https://h/ä?q=ü done"), "ümlaut https://h/ä?*** done");
        // Found by tests/all/fuzz.rs: a multi-byte character right before `://`.
        assert_eq!(urls("Mj𑠣://ü?x"), "Mj𑠣://ü?x");
        assert_eq!(urls("𑠣https://u:p@h/?x"), "𑠣https://***@h/?***");
    }

    #[test]
    fn registries_are_named_without_credentials() {
        assert_eq!(
            registry_url("http://user:pass@Registry.example.com:4873/npm/?x=1"),
            ("http://registry.example.com:4873/npm".to_string(), true)
        );
        assert_eq!(
            registry_url("https://registry.npmjs.org/"),
            ("https://registry.npmjs.org".to_string(), false)
        );
    }
}
