//! A port of the Actions runner's file-command parser (`FileCommandManager.cs`,
//! `EnvFileKeyValuePairs`, Linux behaviour): if our `$GITHUB_OUTPUT` passes this, the runner
//! accepts it. The rules and error texts follow the runner source as quoted in
//! ../shared/platform.md §2.

use std::collections::BTreeMap;

/// Parses a `$GITHUB_OUTPUT` file as the runner does; `Err` carries the runner's error text.
pub fn parse_file_command(text: &str) -> Result<BTreeMap<String, String>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = BTreeMap::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        index += 1;
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        match (equals, heredoc) {
            (Some(eq), h) if h.is_none_or(|h| eq < h) => {
                let (key, value) = (&line[..eq], &line[eq + 1..]);
                if key.is_empty() {
                    return Err(format!("Invalid format '{line}'. Name must not be empty"));
                }
                out.insert(key.to_string(), value.to_string());
            }
            (_, Some(h)) => {
                let (key, delimiter) = (&line[..h], &line[h + 2..]);
                if key.is_empty() || delimiter.is_empty() {
                    return Err(format!(
                        "Invalid format '{line}'. Name must not be empty and delimiter must not be empty"
                    ));
                }
                let mut value = Vec::new();
                loop {
                    if index >= lines.len() {
                        return Err(format!("Invalid value. Matching delimiter not found '{delimiter}'"));
                    }
                    let candidate = lines[index];
                    index += 1;
                    if candidate == delimiter {
                        break;
                    }
                    if index == lines.len() {
                        return Err("Invalid value. EOF marker missing new line.".to_string());
                    }
                    value.push(candidate);
                }
                out.insert(key.to_string(), value.join("\n"));
            }
            _ => return Err(format!("Invalid format '{line}'")),
        }
    }
    Ok(out)
}

#[test]
fn the_port_agrees_with_the_runner_tests() {
    let parsed = parse_file_command("MY_OUTPUT==abc\nEMPTY=\nMULTI<<EOF\nl1\n EOF\nl3\nEOF\n").unwrap();
    assert_eq!(parsed["MY_OUTPUT"], "=abc");
    assert_eq!(parsed["EMPTY"], "");
    assert_eq!(parsed["MULTI"], "l1\n EOF\nl3");
    assert!(parse_file_command("X<<EOF\nvalue\n").is_err());
    assert!(
        parse_file_command("just text\n")
            .unwrap_err()
            .starts_with("Invalid format")
    );
}
