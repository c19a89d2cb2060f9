//! Why this exists: a release rewrites `"version"` in package.json files that people format by
//! hand. Re-serialising would reorder keys, change indentation and churn the diff, so we locate the
//! exact bytes of one value and replace only those.

use std::ops::Range;

/// The byte range of the value at `path` (object keys from the top), if present.
pub fn value_span(text: &str, path: &[&str]) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let mut at = skip_ws(bytes, 0);
    for key in path {
        at = find_key(bytes, at, key)?;
    }
    let end = skip_value(bytes, at)?;
    Some(at..end)
}

/// Replaces the string value at `path` with `value` (JSON-escaped). `None` when absent or not a string.
pub fn replace_string(text: &str, path: &[&str], value: &str) -> Option<String> {
    let span = value_span(text, path)?;
    if !text[span.clone()].starts_with('"') {
        return None;
    }
    let quoted = serde_json::to_string(value).expect("a string serializes");
    Some(format!("{}{}{}", &text[..span.start], quoted, &text[span.end..]))
}

fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && bytes[at].is_ascii_whitespace() {
        at += 1;
    }
    at
}

/// With `at` on an object's `{`, returns where the value of `key` starts.
fn find_key(bytes: &[u8], at: usize, key: &str) -> Option<usize> {
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    let mut at = skip_ws(bytes, at + 1);
    loop {
        if bytes.get(at) == Some(&b'}') {
            return None;
        }
        let key_end = skip_string(bytes, at)?;
        let found: String = serde_json::from_slice(&bytes[at..key_end]).ok()?;
        at = skip_ws(bytes, key_end);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        at = skip_ws(bytes, at + 1);
        if found == key {
            return Some(at);
        }
        at = skip_ws(bytes, skip_value(bytes, at)?);
        match bytes.get(at) {
            Some(b',') => at = skip_ws(bytes, at + 1),
            _ => return None,
        }
    }
}

fn skip_string(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn skip_value(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => skip_string(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            while i < bytes.len() {
                match bytes[i] {
                    b'"' => {
                        i = skip_string(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let mut i = at;
            while i < bytes.len() && !matches!(bytes[i], b',' | b'}' | b']') && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            Some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PKG: &str = "{\n    \"name\": \"@acme/cli\",\n    \"scripts\": {\"x\": \"a \\\"}\\\" b\"},\n    \"version\": \"1.0.0\",\n    \"dependencies\": {\n        \"@acme/shared\": \"^1.0.0\"\n    }\n}\n";

    #[test]
    fn replaces_only_the_value_bytes() {
        let out = replace_string(PKG, &["version"], "1.1.0").unwrap();
        assert_eq!(out, PKG.replace("\"version\": \"1.0.0\"", "\"version\": \"1.1.0\""));
        let out = replace_string(PKG, &["dependencies", "@acme/shared"], "^1.1.0").unwrap();
        assert!(out.contains("\"@acme/shared\": \"^1.1.0\"\n    }"));
    }

    #[test]
    fn absent_or_non_string_is_none() {
        assert!(replace_string(PKG, &["nope"], "x").is_none());
        assert!(replace_string(PKG, &["scripts"], "x").is_none());
        assert!(replace_string("[1]", &["version"], "x").is_none());
    }
}
