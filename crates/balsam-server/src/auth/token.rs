//! Access tokens as upstream issues them: HS256 JWTs with an integer `sub`, integer `exp`
//! and `username`, so the official client and any upstream tooling agree, plus `gen`, the
//! user's token generation at issue time (absent in older tokens: generation 0), which
//! revocation moves past (see [`crate::auth::revocation`]).

use balsam_types::{User, UserId};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: UserId,
    exp: i64,
    username: String,
    #[serde(default)]
    gen: i64,
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub user: User,
    /// The user's token generation when the token was issued.
    pub generation: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

impl Verified {
    /// Whole seconds until the token expires (0 when it already has).
    pub fn seconds_left(&self) -> u64 {
        u64::try_from(self.expires_at - chrono::Utc::now().timestamp()).unwrap_or(0)
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("token invalid")]
    Invalid,
}

/// Signing and verification keys derived from the configured secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: chrono::Duration,
}

/// An issued token and the instant it expires.
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl TokenKeys {
    pub fn new(secret: &SecretString, ttl_hours: u32) -> Self {
        let secret = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        // `sub` is an integer (as upstream issues it), which the library's own `sub` check
        // cannot read; its presence is enforced by `Claims` itself.
        validation.set_required_spec_claims(&["exp"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl: chrono::Duration::hours(i64::from(ttl_hours)),
        }
    }

    /// Issues a token for `user` at token generation `generation`, valid for the
    /// configured TTL.
    pub fn issue(&self, user: &User, generation: i64) -> anyhow::Result<IssuedToken> {
        let expires_at = balsam_types::time::now() + self.ttl;
        let claims = Claims {
            sub: user.id,
            exp: expires_at.timestamp(),
            username: user.username.clone(),
            gen: generation,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(IssuedToken { token, expires_at })
    }

    /// Verifies signature and expiry (not revocation: see
    /// [`crate::auth::revocation::Generations::check`]).
    pub fn verify(&self, token: &str) -> Result<Verified, TokenError> {
        match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) => Ok(Verified {
                user: User {
                    id: data.claims.sub,
                    username: data.claims.username,
                },
                generation: data.claims.gen,
                expires_at: data.claims.exp,
            }),
            Err(err)
                if matches!(
                    err.kind(),
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature
                ) =>
            {
                Err(TokenError::Expired)
            }
            Err(_) => Err(TokenError::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str, ttl: u32) -> TokenKeys {
        TokenKeys::new(&SecretString::from(secret.to_owned()), ttl)
    }

    #[test]
    fn tokens_carry_upstreams_claims_and_round_trip() {
        let k = keys("s3cret-s3cret-s3cret-s3cret-s3cret", 48);
        let user = User {
            id: 7,
            username: "alice".into(),
        };
        let issued = k.issue(&user, 3).unwrap();
        let verified = k.verify(&issued.token).unwrap();
        assert_eq!(verified.user, user);
        assert_eq!(verified.generation, 3);
        // The payload has an integer sub, like PyJWT's upstream tokens.
        let payload = issued.token.split('.').nth(1).unwrap();
        let json = base64_url_decode(payload);
        let claims: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(claims["sub"], 7);
        assert_eq!(claims["username"], "alice");
        assert_eq!(claims["exp"], issued.expires_at.timestamp());
        assert_eq!(claims["gen"], 3);
    }

    #[test]
    fn a_token_signed_with_another_secret_or_expired_is_refused() {
        let user = User {
            id: 1,
            username: "u".into(),
        };
        let other = keys("another-secret-another-secret-xx", 48)
            .issue(&user, 0)
            .unwrap();
        let k = keys("s3cret-s3cret-s3cret-s3cret-s3cret", 48);
        assert_eq!(k.verify(&other.token), Err(TokenError::Invalid));
        assert_eq!(k.verify("garbage"), Err(TokenError::Invalid));
        let expired = keys("s3cret-s3cret-s3cret-s3cret-s3cret", 0)
            .issue(&user, 0)
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(k.verify(&expired.token), Err(TokenError::Expired));
    }

    fn base64_url_decode(s: &str) -> Vec<u8> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut bits = 0u32;
        let mut nbits = 0;
        let mut out = Vec::new();
        for c in s.bytes() {
            let v = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
            bits = (bits << 6) | v;
            nbits += 6;
            if nbits >= 8 {
                nbits -= 8;
                out.push((bits >> nbits) as u8);
                bits &= (1 << nbits) - 1;
            }
        }
        out
    }
}
