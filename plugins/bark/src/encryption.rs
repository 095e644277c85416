//! End-to-end encryption in the format of the Bark app's "Encrypted push"
//! setting (Bark app: `CiphertextProcessor` / `AESCryptoModel`).
//!
//! The app is configured with an algorithm (AES-128/192/256 by key length),
//! a mode (CBC, ECB or GCM), a key and optionally an IV. A sender encrypts
//! the JSON text of the visible push fields and posts
//! `{"ciphertext": <base64>, "iv": <iv>, "device_key": ...}`; the app's
//! notification extension decrypts it with its own key and shows the fields.
//! The format, as the app implements it:
//!
//! - the key is the ASCII bytes of a 16/24/32-character string (AES-128/
//!   192/256); the IV is the ASCII bytes of a 16-character (CBC) or
//!   12-character (GCM) string, and the `iv` push parameter is that string
//!   itself (the app uses it instead of the IV saved in its settings);
//! - CBC and ECB pad with PKCS#7; GCM does not pad and appends its 16-byte
//!   tag to the ciphertext (no additional authenticated data);
//! - `ciphertext` is standard base64 (with `=` padding) of the result.
//!
//! What is encrypted and what stays in clear is decided by [`seal`].

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockCipher, BlockEncrypt, BlockEncryptMut, BlockSizeUser, KeyInit, KeyIvInit};
use aes::{Aes128, Aes192, Aes256};
use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{AesGcm, Nonce};
use base64::Engine;
use beacon_plugin_sdk::config::secret;
use beacon_plugin_sdk::{ConfigError, SendError};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// AES variant and block mode, named like OpenSSL's ciphers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[schemars(inline)]
pub enum Algorithm {
    // Variants carry no doc comments on purpose: without them the schema is
    // a plain string `enum` the dashboard renders as a drop-down.
    #[serde(rename = "aes-128-cbc")]
    Aes128Cbc,
    #[serde(rename = "aes-192-cbc")]
    Aes192Cbc,
    #[serde(rename = "aes-256-cbc")]
    Aes256Cbc,
    #[serde(rename = "aes-128-ecb")]
    Aes128Ecb,
    #[serde(rename = "aes-192-ecb")]
    Aes192Ecb,
    #[serde(rename = "aes-256-ecb")]
    Aes256Ecb,
    #[serde(rename = "aes-128-gcm")]
    Aes128Gcm,
    #[serde(rename = "aes-192-gcm")]
    Aes192Gcm,
    #[serde(rename = "aes-256-gcm")]
    Aes256Gcm,
}

/// Block mode of an [`Algorithm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// CBC with PKCS#7 padding; 16-byte IV.
    Cbc,
    /// ECB with PKCS#7 padding; no IV.
    Ecb,
    /// GCM, no padding, 16-byte tag appended; 12-byte IV.
    Gcm,
}

impl Algorithm {
    /// Every algorithm, in config-name order.
    pub const ALL: [Algorithm; 9] = [
        Algorithm::Aes128Cbc,
        Algorithm::Aes192Cbc,
        Algorithm::Aes256Cbc,
        Algorithm::Aes128Ecb,
        Algorithm::Aes192Ecb,
        Algorithm::Aes256Ecb,
        Algorithm::Aes128Gcm,
        Algorithm::Aes192Gcm,
        Algorithm::Aes256Gcm,
    ];

    /// The config name, e.g. `aes-256-gcm`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Aes128Cbc => "aes-128-cbc",
            Algorithm::Aes192Cbc => "aes-192-cbc",
            Algorithm::Aes256Cbc => "aes-256-cbc",
            Algorithm::Aes128Ecb => "aes-128-ecb",
            Algorithm::Aes192Ecb => "aes-192-ecb",
            Algorithm::Aes256Ecb => "aes-256-ecb",
            Algorithm::Aes128Gcm => "aes-128-gcm",
            Algorithm::Aes192Gcm => "aes-192-gcm",
            Algorithm::Aes256Gcm => "aes-256-gcm",
        }
    }

    /// The block mode.
    pub fn mode(self) -> Mode {
        match self {
            Algorithm::Aes128Cbc | Algorithm::Aes192Cbc | Algorithm::Aes256Cbc => Mode::Cbc,
            Algorithm::Aes128Ecb | Algorithm::Aes192Ecb | Algorithm::Aes256Ecb => Mode::Ecb,
            Algorithm::Aes128Gcm | Algorithm::Aes192Gcm | Algorithm::Aes256Gcm => Mode::Gcm,
        }
    }

    /// Key length in bytes (= ASCII characters): 16, 24 or 32.
    pub fn key_len(self) -> usize {
        match self {
            Algorithm::Aes128Cbc | Algorithm::Aes128Ecb | Algorithm::Aes128Gcm => 16,
            Algorithm::Aes192Cbc | Algorithm::Aes192Ecb | Algorithm::Aes192Gcm => 24,
            Algorithm::Aes256Cbc | Algorithm::Aes256Ecb | Algorithm::Aes256Gcm => 32,
        }
    }

    /// IV length in bytes (= ASCII characters): 16 for CBC, 12 for GCM,
    /// none for ECB.
    pub fn iv_len(self) -> Option<usize> {
        match self.mode() {
            Mode::Cbc => Some(16),
            Mode::Gcm => Some(12),
            Mode::Ecb => None,
        }
    }
}

/// End-to-end encryption of the push content, in the format of the Bark
/// app's "Encrypted push" setting; use the same algorithm, key and IV as
/// there.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(inline)]
pub struct EncryptionConfig {
    /// Cipher, as set in the Bark app (algorithm AES128/AES192/AES256 and
    /// mode CBC/ECB/GCM): `aes-128-gcm`, `aes-256-cbc`, ... GCM is the
    /// recommended mode (authenticated); ECB leaks repeated blocks.
    pub algorithm: Algorithm,
    /// The key entered in the Bark app: 16, 24 or 32 ASCII characters for
    /// AES-128, AES-192 or AES-256.
    #[schemars(transform = secret)]
    pub key: String,
    /// Fixed IV: 16 ASCII characters for CBC, 12 for GCM; not used with
    /// ECB. Leave it out (recommended) to send a fresh random IV with every
    /// push; a fixed GCM IV reused across pushes breaks GCM's security.
    #[serde(default)]
    pub iv: Option<String>,
}

/// Debug output never shows the key.
impl std::fmt::Debug for EncryptionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionConfig")
            .field("algorithm", &self.algorithm)
            .field("key", &"<redacted>")
            .field("iv", &self.iv)
            .finish()
    }
}

fn printable_ascii(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

impl EncryptionConfig {
    /// The configured IV; an empty string counts as not set.
    pub fn fixed_iv(&self) -> Option<&str> {
        self.iv.as_deref().filter(|iv| !iv.is_empty())
    }

    /// Check key and IV against the algorithm. Errors name
    /// `encryption.key` / `encryption.iv` and never contain the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let alg = self.algorithm;
        if !printable_ascii(&self.key) {
            return Err(ConfigError::new(
                "encryption.key",
                "must consist of printable ASCII characters (as typed in the Bark app)",
            ));
        }
        if self.key.len() != alg.key_len() {
            return Err(ConfigError::new(
                "encryption.key",
                format!(
                    "must be exactly {} characters for {} (it has {})",
                    alg.key_len(),
                    alg.name(),
                    self.key.len()
                ),
            ));
        }
        match (alg.iv_len(), self.fixed_iv()) {
            (None, Some(_)) => Err(ConfigError::new(
                "encryption.iv",
                format!("{} uses no IV; remove it", alg.name()),
            )),
            (Some(len), Some(iv)) if !printable_ascii(iv) || iv.len() != len => {
                Err(ConfigError::new(
                    "encryption.iv",
                    format!(
                        "must be exactly {len} printable ASCII characters for {} (or left out for a random IV per push)",
                        alg.name()
                    ),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Why [`encrypt`] could not run (only on a key or IV of the wrong length,
/// which validation rules out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLength(&'static str);

impl std::fmt::Display for BadLength {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the encryption {} has the wrong length", self.0)
    }
}

fn cbc<C>(key: &[u8], iv: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, BadLength>
where
    C: BlockEncryptMut + BlockCipher + KeyInit,
{
    if iv.len() != 16 {
        return Err(BadLength("iv"));
    }
    let enc = cbc::Encryptor::<C>::new_from_slices(key, iv).map_err(|_| BadLength("key"))?;
    Ok(enc.encrypt_padded_vec_mut::<Pkcs7>(plaintext))
}

fn ecb<C>(key: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, BadLength>
where
    C: BlockEncryptMut + BlockCipher + KeyInit,
{
    let enc = ecb::Encryptor::<C>::new_from_slice(key).map_err(|_| BadLength("key"))?;
    Ok(enc.encrypt_padded_vec_mut::<Pkcs7>(plaintext))
}

fn gcm<C>(key: &[u8], iv: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, BadLength>
where
    C: BlockCipher + BlockSizeUser<BlockSize = U16> + BlockEncrypt + KeyInit,
{
    if iv.len() != 12 {
        return Err(BadLength("iv"));
    }
    let cipher = AesGcm::<C, U12>::new_from_slice(key).map_err(|_| BadLength("key"))?;
    let payload = Payload {
        msg: plaintext,
        aad: b"",
    };
    // Encryption only fails for messages beyond GCM's 64 GiB limit.
    cipher
        .encrypt(Nonce::<U12>::from_slice(iv), payload)
        .map_err(|_| BadLength("plaintext"))
}

/// Encrypt `plaintext` and return the base64 `ciphertext` (GCM: ciphertext
/// followed by the tag). `iv` is ignored for ECB.
pub fn encrypt(
    algorithm: Algorithm,
    key: &[u8],
    iv: &[u8],
    plaintext: &[u8],
) -> Result<String, BadLength> {
    let bytes = match algorithm {
        Algorithm::Aes128Cbc => cbc::<Aes128>(key, iv, plaintext),
        Algorithm::Aes192Cbc => cbc::<Aes192>(key, iv, plaintext),
        Algorithm::Aes256Cbc => cbc::<Aes256>(key, iv, plaintext),
        Algorithm::Aes128Ecb => ecb::<Aes128>(key, plaintext),
        Algorithm::Aes192Ecb => ecb::<Aes192>(key, plaintext),
        Algorithm::Aes256Ecb => ecb::<Aes256>(key, plaintext),
        Algorithm::Aes128Gcm => gcm::<Aes128>(key, iv, plaintext),
        Algorithm::Aes192Gcm => gcm::<Aes192>(key, iv, plaintext),
        Algorithm::Aes256Gcm => gcm::<Aes256>(key, iv, plaintext),
    }?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Characters of a generated IV: the Bark app reads the `iv` parameter as a
/// string and uses its UTF-8 bytes, so the IV must be text. (The app's own
/// sender uses the same alphabet.)
const IV_ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A fresh random IV of `len` alphanumeric characters from the system's
/// CSPRNG (`wasi:random` inside the component): about 5.95 bits per
/// character, so 71 bits for GCM's 12 and 95 bits for CBC's 16.
pub fn random_iv(len: usize) -> Result<String, getrandom::Error> {
    let mut iv = String::with_capacity(len);
    let mut buf = [0u8; 32];
    while iv.len() < len {
        getrandom::fill(&mut buf)?;
        // Rejection sampling: 248 = 4 * 62, so `b % 62` is uniform below it.
        for b in buf.iter().filter(|&&b| b < 248) {
            if iv.len() == len {
                break;
            }
            iv.push(char::from(IV_ALPHABET[usize::from(b % 62)]));
        }
    }
    Ok(iv)
}

/// Keys the Bark server itself acts on that make no sense inside the
/// ciphertext: the target devices, `delete` (turns the push into a silent
/// background push that never reaches the app's decrypting extension) and
/// `ttl` (APNs expiry). They are sent in clear only.
const CLEAR_ONLY: [&str; 4] = ["device_key", "device_keys", "delete", "ttl"];

/// Keys sent in clear *and* kept inside the ciphertext: `id` is the APNs
/// collapse id for the server, and the app, which replaces the push's
/// fields with the decrypted ones, needs it too (to update a message).
const CLEAR_AND_ENCRYPTED: [&str; 1] = ["id"];

/// Keys dropped from the encrypted object: the channel computes its own.
const DROPPED: [&str; 2] = ["ciphertext", "iv"];

/// Turn a built Bark payload into an encrypted push.
///
/// The encrypted JSON object is `payload` without `device_key`,
/// `device_keys`, `delete`, `ttl`, `ciphertext` and `iv` (names compared
/// case-insensitively, as the Bark server lowercases them); the push is `{"ciphertext", "iv" (CBC/GCM), the device keys,
/// "id", "delete", "ttl" (when present)}`. Everything else (title, subtitle,
/// body, sound, group, badge, level, url, isArchive, unknown keys, ...) is
/// read by the app from the decrypted object, so it only travels encrypted.
///
/// `random_iv(len)` supplies the IV for CBC/GCM when none is configured
/// (the plugin passes [`random_iv`]); ECB uses no IV.
pub fn seal(
    config: &EncryptionConfig,
    payload: Map<String, Value>,
    random_iv: impl FnOnce(usize) -> Result<String, getrandom::Error>,
) -> Result<Map<String, Value>, SendError> {
    let mut clear = Map::new();
    let mut secret_fields = Map::new();
    for (key, value) in payload {
        let lower = key.to_ascii_lowercase();
        if CLEAR_ONLY.contains(&lower.as_str()) {
            clear.insert(key, value);
        } else if CLEAR_AND_ENCRYPTED.contains(&lower.as_str()) {
            clear.insert(key.clone(), value.clone());
            secret_fields.insert(key, value);
        } else if !DROPPED.contains(&lower.as_str()) {
            secret_fields.insert(key, value);
        }
    }

    let algorithm = config.algorithm;
    let iv = match (algorithm.iv_len(), config.fixed_iv()) {
        (None, _) => None,
        (Some(_), Some(fixed)) => Some(fixed.to_owned()),
        (Some(len), None) => Some(random_iv(len).map_err(|e| {
            SendError::retryable(format!("no random IV for the encrypted push: {e}"))
        })?),
    };
    let plaintext = serde_json::to_vec(&Value::Object(secret_fields))
        .map_err(|e| SendError::permanent(format!("cannot serialise the push: {e}")))?;
    let ciphertext = encrypt(
        algorithm,
        config.key.as_bytes(),
        iv.as_deref().unwrap_or("").as_bytes(),
        &plaintext,
    )
    .map_err(|e| SendError::permanent(e.to_string()))?;

    clear.insert("ciphertext".into(), Value::String(ciphertext));
    if let Some(iv) = iv {
        clear.insert("iv".into(), Value::String(iv));
    }
    Ok(clear)
}
