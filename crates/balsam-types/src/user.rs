//! Users: the tenancy root. Every other resource belongs to exactly one user.

use serde::Serialize;
use utoipa::ToSchema;

/// A user id.
pub type UserId = i64;

/// The public user shape (`GET /auth/password/me`, registration response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    pub id: UserId,
    pub username: String,
}
