//! Channel configs are sealed at rest (they hold device keys and tokens):
//! XChaCha20-Poly1305 with a random 192-bit nonce per write, and the channel id
//! as associated data so a ciphertext cannot be moved to another row.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{AeadCore, XChaCha20Poly1305, XNonce};

use super::channel::Channel;

const VERSION_PREFIX: &str = "v1:";
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the channel config key must be 32 bytes, given as 64 hex digits or base64")]
    BadKey,
    #[error(
        "a stored channel config could not be decrypted (wrong CHANNEL_CONFIG_ENCRYPTION_KEY?)"
    )]
    Decrypt,
    #[error("encryption failed")]
    Encrypt,
    #[error("a decrypted channel config is not JSON")]
    NotJson,
}

#[derive(Clone)]
pub struct ConfigCipher {
    cipher: XChaCha20Poly1305,
}

impl ConfigCipher {
    /// From 32 key bytes written as 64 hex digits or standard base64.
    pub fn from_text(key: &str) -> Result<Self, CryptoError> {
        let key = key.trim();
        let bytes = hex::decode(key)
            .ok()
            .filter(|b| b.len() == 32)
            .or_else(|| STANDARD.decode(key).ok().filter(|b| b.len() == 32));
        let bytes = bytes.ok_or(CryptoError::BadKey)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| CryptoError::BadKey)?;
        Ok(ConfigCipher { cipher })
    }

    /// A fresh random key as 64 hex digits.
    pub fn generate_key_text() -> String {
        hex::encode(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    pub fn encrypt(&self, channel_id: &str, plaintext: &str) -> Result<String, CryptoError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: channel_id.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Encrypt)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{VERSION_PREFIX}{}", STANDARD.encode(out)))
    }

    /// A channel's sealed config, decrypted and parsed.
    pub fn open(&self, channel: &Channel) -> Result<serde_json::Value, CryptoError> {
        let text = self.decrypt(&channel.id, &channel.sealed_config)?;
        serde_json::from_str(&text).map_err(|_| CryptoError::NotJson)
    }

    /// A config sealed for the channel with this id.
    pub fn seal(
        &self,
        channel_id: &str,
        config: &serde_json::Value,
    ) -> Result<String, CryptoError> {
        self.encrypt(channel_id, &config.to_string())
    }

    pub fn decrypt(&self, channel_id: &str, stored: &str) -> Result<String, CryptoError> {
        let encoded = stored
            .strip_prefix(VERSION_PREFIX)
            .ok_or(CryptoError::Decrypt)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| CryptoError::Decrypt)?;
        if bytes.len() < NONCE_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Decrypt)?;
        let plain = self
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: channel_id.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_bound_to_the_channel() {
        let cipher = ConfigCipher::from_text(&ConfigCipher::generate_key_text()).expect("key");
        let sealed = cipher
            .encrypt("ch1", r#"{"device_key":"secret"}"#)
            .expect("encrypt");
        assert!(!sealed.contains("secret"));
        assert_ne!(
            sealed,
            cipher
                .encrypt("ch1", r#"{"device_key":"secret"}"#)
                .expect("encrypt"),
            "fresh nonce each time"
        );
        assert_eq!(
            cipher.decrypt("ch1", &sealed).expect("decrypt"),
            r#"{"device_key":"secret"}"#
        );
        assert!(
            cipher.decrypt("ch2", &sealed).is_err(),
            "moved to another row"
        );
        let other = ConfigCipher::from_text(&ConfigCipher::generate_key_text()).expect("key");
        assert!(other.decrypt("ch1", &sealed).is_err(), "wrong key");
    }

    #[test]
    fn key_formats() {
        assert!(ConfigCipher::from_text(&"ab".repeat(32)).is_ok());
        assert!(ConfigCipher::from_text(&STANDARD.encode([7u8; 32])).is_ok());
        assert!(ConfigCipher::from_text("too short").is_err());
    }
}
