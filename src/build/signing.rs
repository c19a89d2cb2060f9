//! Why this exists: users check downloads with `sha256sum -c SHA256SUMS`, which proves nothing if
//! the sums file itself was replaced. With a signing key (the `signing-key` secret: an
//! ASCII-armored OpenPGP secret key, and `signing-passphrase` when it is locked) the build writes
//! `SHA256SUMS.asc`, a detached armored signature that `gpg --verify SHA256SUMS.asc SHA256SUMS`
//! checks. The key is parsed and unlocked before anything is planned, so a bad key or passphrase
//! stops the release (exit 2) before anything is built or staged; it stays in memory and is never
//! written anywhere. Signing is pure Rust (rpgp), so the image needs no gpg.

use pgp::composed::{ArmorOptions, Deserializable, DetachedSignature, SignedSecretKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::{KeyDetails, Password};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The signature's asset name.
pub const SIGNATURE_NAME: &str = "SHA256SUMS.asc";

/// An unlocked signing key.
pub struct SigningKey {
    key: SignedSecretKey,
    password: Password,
    /// Which key signs: the primary key, or the index of a signing subkey.
    subkey: Option<usize>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.fingerprint())
    }
}

impl SigningKey {
    /// The key the inputs give, if any. A passphrase without a key is a mistake (a misnamed
    /// secret, most often), not something to ignore.
    pub fn from_inputs(armored: Option<&Secret>, passphrase: Option<&Secret>) -> Result<Option<SigningKey>> {
        match (armored, passphrase) {
            (Some(key), passphrase) => SigningKey::load(key, passphrase).map(Some),
            (None, Some(_)) => Err(Error::input(
                "signing-passphrase",
                "given without signing-key; give both, or neither to release unsigned",
            )),
            (None, None) => Ok(None),
        }
    }

    /// Parses `armored` and checks that `passphrase` unlocks it. Errors say what is wrong with
    /// the input, never its content.
    pub fn load(armored: &Secret, passphrase: Option<&Secret>) -> Result<SigningKey> {
        let (key, _) = SignedSecretKey::from_string(armored.expose()).map_err(|e| {
            Error::input(
                "signing-key",
                format!(
                    "is not an ASCII-armored OpenPGP secret key ({e}); export one with `gpg --armor --export-secret-keys KEYID`"
                ),
            )
        })?;
        key.verify_bindings()
            .map_err(|e| Error::input("signing-key", format!("the key's self-signatures do not verify ({e})")))?;
        let password = passphrase.map_or_else(Password::empty, |p| Password::from(p.expose()));
        // A signing subkey signs when the key has one (GnuPG's default layout); else the primary.
        let subkey = key
            .secret_subkeys
            .iter()
            .position(|s| s.signatures.iter().any(|sig| sig.key_flags().sign()));
        let unlocked = match subkey {
            Some(i) => key.secret_subkeys[i].key.unlock(&password, |_, _| Ok(())),
            None => key.primary_key.unlock(&password, |_, _| Ok(())),
        };
        match unlocked {
            Ok(Ok(())) => Ok(SigningKey { key, password, subkey }),
            _ => Err(Error::input(
                "signing-passphrase",
                if passphrase.is_some() {
                    "does not unlock the signing key".to_string()
                } else {
                    "the signing key is locked with a passphrase: give input signing-passphrase".to_string()
                },
            )),
        }
    }

    /// The primary key's fingerprint, upper-case hex as GnuPG shows it.
    pub fn fingerprint(&self) -> String {
        format!("{:X}", self.key.fingerprint())
    }

    /// A detached, ASCII-armored signature of `data` (SHA-256).
    pub fn sign(&self, data: &[u8]) -> Result<String> {
        let rng = rand::rngs::OsRng;
        let signature = match self.subkey {
            Some(i) => DetachedSignature::sign_binary_data(
                rng,
                &self.key.secret_subkeys[i].key,
                &self.password,
                HashAlgorithm::Sha256,
                data,
            ),
            None => DetachedSignature::sign_binary_data(
                rng,
                &self.key.primary_key,
                &self.password,
                HashAlgorithm::Sha256,
                data,
            ),
        }
        .map_err(|e| Error::Failed(format!("signing SHA256SUMS failed: {e}")))?;
        signature
            .to_armored_string(ArmorOptions::default())
            .map_err(|e| Error::Failed(format!("armoring the signature failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_keys_are_named_without_their_content() {
        let garbage = Secret::new("-----BEGIN PGP PRIVATE KEY BLOCK-----\nsecretstuff\n").unwrap();
        let err = SigningKey::load(&garbage, None).unwrap_err();
        assert_eq!(err.exit_status(), crate::error::ExitStatus::Usage);
        let text = err.to_string();
        assert!(
            text.starts_with("signing-key: is not an ASCII-armored OpenPGP secret key"),
            "{text}"
        );
        assert!(!text.contains("secretstuff"), "{text}");
    }
}
