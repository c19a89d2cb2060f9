//! Why this exists: a token must never reach a log, not even at debug level. Wrapping it in a type
//! whose `Debug` prints `***` makes an accidental `{:?}` harmless.

/// A secret value (a token). `Debug` never shows it; use [`Secret::expose`] where it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value; an empty or all-whitespace value is no secret at all.
    pub fn new(value: impl Into<String>) -> Option<Secret> {
        let value = value.into();
        (!value.trim().is_empty()).then_some(Secret(value))
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_hides_the_value() {
        let secret = super::Secret::new("ghp_abc").unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert!(super::Secret::new("  ").is_none());
    }
}
