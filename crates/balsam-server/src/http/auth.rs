//! `/auth`: login-method discovery, password registration and login, and `me`.
//!
//! Repetition note: this file spells out a step another crate's test or client spells out
//! too (starting a server, waiting for a port, a call with its error handling); crates do
//! not share test code.

use crate::auth::{password, AuthUser};
use crate::http::error::ApiError;
use crate::http::extract::{form_urlencoded_pairs, ClientIp, JsonBody, RawBody};
use crate::state::ServerState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use balsam_store::StoreError;
use balsam_types::validate::{self as v, Cx};
use balsam_types::{time, User};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Upstream's column size for usernames.
const MAX_USERNAME: usize = 100;

pub fn routes() -> OpenApiRouter<ServerState> {
    OpenApiRouter::new()
        .routes(routes!(how))
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(me))
        .routes(routes!(logout))
}

/// The body of `POST /auth/password/register`.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "documents the request body in the OpenAPI document"
)]
struct UserCreate {
    username: String,
    password: String,
}

/// The login response, as the client stores it in `client.yml`.
#[derive(Serialize, ToSchema)]
struct Token {
    access_token: String,
    /// Always `"bearer"`.
    token_type: &'static str,
    /// Naive UTC ISO datetime of expiry.
    #[schema(example = "2026-12-01T17:01:52.993236")]
    expiration: String,
}

/// The login form (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "documents the request body in the OpenAPI document"
)]
struct LoginForm {
    username: String,
    password: String,
    /// If present, must be `password`.
    grant_type: Option<String>,
}

/// List the login methods this server supports.
///
/// The strings are Python enum reprs (`LoginMethod.password`): the official client matches
/// them exactly.
#[utoipa::path(get, path = "/auth/how", tag = "auth",
    responses((status = 200, body = Vec<String>, example = json!(["LoginMethod.password"]))))]
async fn how() -> Json<Vec<&'static str>> {
    Json(vec!["LoginMethod.password"])
}

/// Register a new user with a password.
#[utoipa::path(post, path = "/auth/password/register", tag = "auth",
    request_body = UserCreate,
    responses((status = 201, body = User), (status = 400, description = "Username already taken"),
        (status = 403, description = "Registration is switched off"),
        (status = 422, description = "Invalid body, or a password the policy refuses"),
        (status = 429, description = "Too many registrations from this address; see Retry-After"),
        (status = 503, description = "Password hashing is saturated; see Retry-After")))]
async fn register(
    State(state): State<ServerState>,
    ClientIp(client): ClientIp,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<User>), ApiError> {
    if !state.config.auth.allow_registration {
        return Err(ApiError::Detail(
            StatusCode::FORBIDDEN,
            "Registration is disabled on this server; ask an administrator to run \
             `balsam-server user add NAME`"
                .into(),
        ));
    }
    let (username, password) = credentials(&body)?;
    let auth = &state.config.auth;
    if let Some(why) = password::policy_violation(
        &password,
        auth.min_password_length,
        auth.max_password_length,
    ) {
        return Err(ApiError::invalid(
            vec!["body".into(), "password".into()],
            &why,
            "value_error.password.policy",
        ));
    }
    if let Err(secs) = state.registration_throttle.admit(client) {
        tracing::info!(client.ip = %client, "registration refused: rate limited");
        return Err(ApiError::TooManyRequests(
            secs,
            format!("Too many registrations from this address; retry in {secs} s"),
        ));
    }
    let hash = state
        .hasher
        .hash(password)
        .await?
        .map_err(ApiError::Internal)?;
    match state.store.create_user(&username, &hash).await {
        Ok(user) => {
            tracing::info!(user.id = user.id, "user registered");
            Ok((StatusCode::CREATED, Json(user)))
        }
        Err(StoreError::Conflict { .. }) => Err(ApiError::bad_request("Username already taken")),
        Err(err) => Err(err.into()),
    }
}

fn credentials(body: &Value) -> Result<(String, String), ApiError> {
    let mut cx = Cx::new("body");
    let pair = v::object(&mut cx, body).and_then(|obj| {
        let username = cx.required(obj, "username", |cx, x| {
            let name = v::string_max(cx, x, MAX_USERNAME)?;
            if name.trim().is_empty() {
                cx.error_ctx(
                    "ensure this value has at least 1 characters",
                    "value_error.any_str.min_length",
                    Some(serde_json::json!({"limit_value": 1})),
                );
                return None;
            }
            Some(name)
        });
        let password = cx.required(obj, "password", v::string);
        Some((username?, password?))
    });
    Ok(cx.finish(pair)?)
}

/// Log in with a username and password (OAuth2 password-grant form).
#[utoipa::path(post, path = "/auth/password/login", tag = "auth",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = Token), (status = 401, description = "Unauthorized"),
        (status = 422),
        (status = 429, description = "Too many failed logins for this account or client address; see Retry-After"),
        (status = 503, description = "Password checks are saturated; see Retry-After")))]
async fn login(
    State(state): State<ServerState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<Token>, ApiError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    // Like FastAPI's Form(): a JSON body is not a form, so both fields are missing.
    let pairs = if is_form {
        form_urlencoded_pairs(&body)
    } else {
        Vec::new()
    };
    let form: serde_json::Map<String, Value> = pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let mut cx = Cx::new("body");
    let username = cx.required(&form, "username", v::string);
    let password = cx.required(&form, "password", v::string);
    if let Some(grant) = form.get("grant_type").and_then(Value::as_str) {
        if grant != "password" {
            cx.at("grant_type", |cx| {
                cx.error_ctx(
                    "string does not match regex \"password\"",
                    "value_error.str.regex",
                    Some(serde_json::json!({"pattern": "password"})),
                );
            });
        }
    }
    for (key, value) in &form {
        if value.as_str().is_some_and(|s| s.contains('\0')) {
            cx.at(key.as_str(), |cx| cx.error(v::NUL_MSG, v::NUL_KIND));
        }
    }
    let (username, password) = cx.finish(username.zip(password))?;

    if let Err(secs) = state.login_throttle.check(&username, client) {
        tracing::info!(client.ip = %client, "login refused: rate limited");
        return Err(ApiError::TooManyRequests(
            secs,
            format!("Too many failed logins; retry in {secs} s"),
        ));
    }
    let creds = state.store.find_user_credentials(&username).await?;
    let stored = creds.as_ref().and_then(|c| c.password_hash.clone());
    // Unknown users are checked against a dummy hash: the same work, the same answer time.
    let verified = state.hasher.verify(password, stored).await?;
    let Some(creds) = creds.filter(|_| verified) else {
        state.login_throttle.failed(&username, client);
        tracing::info!(client.ip = %client, "login refused: wrong username or password");
        return Err(ApiError::BadCredentials);
    };
    state.login_throttle.succeeded(&username);
    let issued = state
        .tokens
        .issue(&creds.user, creds.token_generation)
        .map_err(ApiError::Internal)?;
    tracing::info!(user.id = creds.user.id, "login");
    Ok(Json(Token {
        access_token: issued.token,
        token_type: "bearer",
        expiration: time::isoformat_naive(&issued.expires_at),
    }))
}

/// The authenticated user.
#[utoipa::path(get, path = "/auth/password/me", tag = "auth",
    responses((status = 200, body = User), (status = 401)), security(("bearer" = [])))]
async fn me(user: AuthUser) -> Json<User> {
    Json(User {
        id: user.id,
        username: user.username,
    })
}

/// Log out everywhere: revoke every token issued to the caller so far, on every replica and
/// open websocket (within `auth.revocation_check_ms`).
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "Every token of the caller is revoked"), (status = 401)),
    security(("bearer" = [])))]
async fn logout(State(state): State<ServerState>, user: AuthUser) -> Result<StatusCode, ApiError> {
    state.store.revoke_tokens(user.id).await?;
    state.generations.forget(user.id);
    tracing::info!(user.id = user.id, "logged out: tokens revoked");
    Ok(StatusCode::NO_CONTENT)
}
