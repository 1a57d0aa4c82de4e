//! The `AuthUser` extractor: `Authorization: Bearer <token>`, upstream's 401 bodies.
//!
//! Repetition note: every extractor opens with the same `FromRequestParts` prologue; the
//! shape repeats on purpose (axum's trait, one impl per extractor).

use crate::auth::TokenError;
use crate::http::error::ApiError;
use crate::state::ServerState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use balsam_types::UserId;

/// The authenticated caller: a well-signed, unexpired token whose user still exists and
/// has not revoked it (checked through [`crate::auth::revocation::Generations`]).
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub username: String,
}

impl FromRequestParts<ServerState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .ok_or(ApiError::NotAuthenticated)?;
        // "Bearer" with an empty token is a bad token, not a missing one (as upstream).
        let (scheme, token) = header.split_once(' ').unwrap_or((header, ""));
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::NotAuthenticated);
        }
        let verified = match state.tokens.verify(token.trim()) {
            Ok(verified) => verified,
            Err(TokenError::Expired | TokenError::Invalid) => return Err(ApiError::InvalidToken),
        };
        let user = verified.user;
        if !state
            .generations
            .is_current(state.store.as_ref(), user.id, verified.generation)
            .await?
        {
            return Err(ApiError::InvalidToken);
        }
        tracing::Span::current().record("user.id", user.id);
        Ok(AuthUser {
            id: user.id,
            username: user.username,
        })
    }
}
