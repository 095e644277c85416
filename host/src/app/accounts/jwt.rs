//! Short-lived HS256 access tokens.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, OrInternal};

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: u64,
    exp: u64,
    typ: String,
}

/// Keys derived once from the configured secret.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: u64,
}

impl AccessTokens {
    pub fn new(secret: &[u8], ttl_seconds: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        AccessTokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
        }
    }

    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    pub fn issue(&self, user_id: &str) -> Result<String, AppError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now,
            exp: now + self.ttl_seconds,
            typ: "access".into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).or_internal()
    }

    /// The user id of a valid token; expiry and forgery answer 401 with distinct codes.
    pub fn verify(&self, token: &str) -> Result<String, AppError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => AppError::Unauthorized {
                    code: "token_expired",
                    message: "the access token has expired".into(),
                },
                _ => AppError::Unauthorized {
                    code: "invalid_token",
                    message: "the access token is invalid".into(),
                },
            })?;
        if data.claims.typ != "access" {
            return Err(AppError::Unauthorized {
                code: "invalid_token",
                message: "the access token is invalid".into(),
            });
        }
        Ok(data.claims.sub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_forgery() {
        let tokens = AccessTokens::new(b"0123456789abcdef0123456789abcdef", 60);
        let token = tokens.issue("user-1").expect("issue");
        assert_eq!(tokens.verify(&token).expect("verify"), "user-1");
        let other = AccessTokens::new(b"another key another key another k", 60);
        assert!(matches!(
            other.verify(&token),
            Err(AppError::Unauthorized {
                code: "invalid_token",
                ..
            })
        ));
    }
}
