//! Why this exists: a release must not be slower or bigger than the last one by more than the
//! project accepts. Metrics come from a JSON file the benchmarks wrote; each release records its
//! metrics in its plan so the next release compares against them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::BenchGate;
use crate::error::{Error, Result};
use crate::validate::Finding;

/// Reads `{"name": value}` or `[{"name", "value", "unit"}]`.
pub fn metrics(report: &Value, shown: &str) -> Result<BTreeMap<String, f64>> {
    let bad = || {
        Error::input(
            "[validate.bench] report",
            format!("{shown} holds no metrics; use {{\"name\": number}} or [{{\"name\": …, \"value\": number}}]"),
        )
    };
    let mut out = BTreeMap::new();
    match report {
        Value::Object(map) => {
            for (name, value) in map {
                out.insert(name.clone(), value.as_f64().ok_or_else(bad)?);
            }
        }
        Value::Array(list) => {
            for item in list {
                let name = item["name"].as_str().ok_or_else(bad)?;
                out.insert(name.to_string(), item["value"].as_f64().ok_or_else(bad)?);
            }
        }
        _ => return Err(bad()),
    }
    Ok(out)
}

/// `"10%"` → 0.10.
pub fn parse_percent(text: &str) -> Result<f64> {
    text.trim()
        .strip_suffix('%')
        .and_then(|n| n.trim().parse::<f64>().ok())
        .filter(|n| *n >= 0.0)
        .map(|n| n / 100.0)
        .ok_or_else(|| {
            Error::input(
                "[validate.bench] max-regression",
                format!("{text:?} is not a percentage; e.g. \"10%\""),
            )
        })
}

/// Checks absolute limits and the regression against `previous`.
pub fn check(
    gate: &BenchGate,
    current: &BTreeMap<String, f64>,
    previous: Option<&BTreeMap<String, f64>>,
    findings: &mut Vec<Finding>,
) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    for (name, limit) in &gate.limits {
        let Some(value) = current.get(name) else {
            findings.push(Finding {
                message: format!("metric {name} has a limit but is not in {}", gate.report),
                location: None,
            });
            continue;
        };
        if let Some(max) = limit.max
            && *value > max
        {
            findings.push(Finding {
                message: format!("{name} = {value} is above its max {max}"),
                location: None,
            });
        }
        if let Some(min) = limit.min
            && *value < min
        {
            findings.push(Finding {
                message: format!("{name} = {value} is below its min {min}"),
                location: None,
            });
        }
    }
    let Some(text) = &gate.max_regression else {
        return Ok(notes);
    };
    let allowed = parse_percent(text)?;
    let Some(previous) = previous else {
        notes.push("no metrics recorded by the previous release: regression not checked".into());
        return Ok(notes);
    };
    for (name, value) in current {
        let Some(before) = previous.get(name) else { continue };
        if *before == 0.0 {
            continue;
        }
        let higher_better = gate.higher_is_better.contains(name)
            || gate
                .limits
                .get(name)
                .is_some_and(|l| l.min.is_some() && l.max.is_none());
        let change = (value - before) / before.abs();
        let worse = if higher_better { -change } else { change };
        if worse > allowed {
            findings.push(Finding {
                message: format!(
                    "{name} regressed by {:.1}% ({before} → {value}); at most {text} allowed",
                    worse * 100.0
                ),
                location: None,
            });
        }
    }
    Ok(notes)
}
