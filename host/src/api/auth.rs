//! `/api/auth/*` (SPEC §4, §11).

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{cookie_value, ApiJson, ClientIp, CurrentUser};
use crate::app::accounts::{LimitedAction, Session};
use crate::app::App;
use crate::config::SameSite;
use crate::error::{AppResult, ErrorBody};
use crate::storage::UserRow;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(resend_verification))
        .routes(routes!(verify_email))
        .routes(routes!(forgot_password))
        .routes(routes!(reset_password))
        .routes(routes!(change_email))
        .routes(routes!(change_password))
        .routes(routes!(delete_account))
}

#[derive(Deserialize, ToSchema)]
pub struct Credentials {
    email: String,
    /// At least 8 characters for sign-up.
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    id: String,
    email: String,
    email_verified: bool,
    /// Operators install, upgrade, restrict and remove plugins for everyone.
    is_admin: bool,
}

impl From<&UserRow> for UserView {
    fn from(user: &UserRow) -> Self {
        UserView {
            id: user.id.clone(),
            email: user.email.clone(),
            email_verified: user.email_verified_at.is_some(),
            is_admin: user.is_operator(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: u64,
}

#[derive(Deserialize, ToSchema)]
pub struct EmailRequest {
    email: String,
}

#[derive(Deserialize, ToSchema)]
pub struct OptionalEmailRequest {
    /// Needed when the call is not authenticated.
    email: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    token: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ResetPasswordRequest {
    token: String,
    new_password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    current_password: String,
    new_password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ChangeEmailRequest {
    new_email: String,
    password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordRequest {
    password: String,
}

/// Create an account; a verification link is mailed.
#[utoipa::path(post, path = "/api/auth/signup", tag = "auth", request_body = Credentials,
    responses((status = 201, body = UserView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn signup(
    State(state): State<App>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Credentials>,
) -> AppResult<(StatusCode, Json<UserView>)> {
    state
        .accounts
        .check_rate(LimitedAction::Signup, ip, &body.email)?;
    let user = state.accounts.signup(&body.email, &body.password).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// Log in: access token in JSON, refresh token in an HttpOnly cookie.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = Credentials,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<App>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Credentials>,
) -> AppResult<Response> {
    state
        .accounts
        .check_rate(LimitedAction::Login, ip, &body.email)?;
    let session = state.accounts.login(&body.email, &body.password).await?;
    Ok(session_response(&state, session))
}

/// Rotate the refresh cookie and get a new access token.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth",
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody)))]
async fn refresh(State(state): State<App>, headers: HeaderMap) -> Response {
    let presented = cookie_value(&headers, &state.config.jwt.cookie_name);
    match state.accounts.refresh(presented.as_deref()).await {
        Ok(session) => session_response(&state, session),
        // A refused cookie is cleared so the browser stops presenting it.
        Err(err) => with_cookie(err.into_response(), clear_cookie(&state)),
    }
}

/// Revoke this session's refresh token and clear the cookie.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 204)))]
async fn logout(State(state): State<App>, headers: HeaderMap) -> AppResult<Response> {
    let presented = cookie_value(&headers, &state.config.jwt.cookie_name);
    state.accounts.logout(presented.as_deref()).await?;
    Ok(with_cookie(
        StatusCode::NO_CONTENT.into_response(),
        clear_cookie(&state),
    ))
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
async fn me(CurrentUser(user): CurrentUser) -> Json<UserView> {
    Json(UserView::from(&user))
}

/// Mail a new verification link (to the logged-in user, or to `email`).
#[utoipa::path(post, path = "/api/auth/resend-verification", tag = "auth", request_body = OptionalEmailRequest,
    responses((status = 202), (status = 429, body = ErrorBody)))]
async fn resend_verification(
    State(state): State<App>,
    ClientIp(ip): ClientIp,
    user: Option<CurrentUser>,
    ApiJson(body): ApiJson<OptionalEmailRequest>,
) -> AppResult<StatusCode> {
    let email = match (user, body.email) {
        (Some(CurrentUser(user)), _) => user.email,
        (None, Some(email)) => email,
        (None, None) => {
            return Err(crate::error::AppError::validation(
                "email",
                "is required when not logged in",
            ))
        }
    };
    state
        .accounts
        .check_rate(LimitedAction::ResendVerification, ip, &email)?;
    state.accounts.resend_verification(&email).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Confirm an address with the token from the mailed link.
#[utoipa::path(post, path = "/api/auth/verify-email", tag = "auth", request_body = TokenRequest,
    responses((status = 204), (status = 400, body = ErrorBody)))]
async fn verify_email(
    State(state): State<App>,
    ApiJson(body): ApiJson<TokenRequest>,
) -> AppResult<StatusCode> {
    state.accounts.verify_email(&body.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mail a password-reset link; answers 202 whether or not the address exists.
#[utoipa::path(post, path = "/api/auth/forgot-password", tag = "auth", request_body = EmailRequest,
    responses((status = 202), (status = 429, body = ErrorBody)))]
async fn forgot_password(
    State(state): State<App>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<EmailRequest>,
) -> AppResult<StatusCode> {
    state
        .accounts
        .check_rate(LimitedAction::ForgotPassword, ip, &body.email)?;
    state.accounts.forgot_password(&body.email).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Set a new password with the token from the mailed link; ends all sessions.
#[utoipa::path(post, path = "/api/auth/reset-password", tag = "auth", request_body = ResetPasswordRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reset_password(
    State(state): State<App>,
    ApiJson(body): ApiJson<ResetPasswordRequest>,
) -> AppResult<StatusCode> {
    state
        .accounts
        .reset_password(&body.token, &body.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change the e-mail address; takes effect when the link mailed to it is followed.
#[utoipa::path(post, path = "/api/auth/change-email", tag = "auth", request_body = ChangeEmailRequest, security(("bearer" = [])),
    responses((status = 202), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn change_email(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<ChangeEmailRequest>,
) -> AppResult<StatusCode> {
    state
        .accounts
        .change_email(&user, &body.new_email, &body.password)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Change the password; other sessions are logged out.
#[utoipa::path(post, path = "/api/auth/change-password", tag = "auth", request_body = ChangePasswordRequest, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_password(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> AppResult<StatusCode> {
    let this_session = cookie_value(&headers, &state.config.jwt.cookie_name);
    state
        .accounts
        .change_password(
            &user,
            &body.current_password,
            &body.new_password,
            this_session.as_deref(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete the account and everything it owns.
#[utoipa::path(post, path = "/api/auth/delete-account", tag = "auth", request_body = PasswordRequest, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody)))]
async fn delete_account(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<PasswordRequest>,
) -> AppResult<Response> {
    state.accounts.delete_account(&user, &body.password).await?;
    Ok(with_cookie(
        StatusCode::NO_CONTENT.into_response(),
        clear_cookie(&state),
    ))
}

fn session_response(state: &App, session: Session) -> Response {
    let body = TokenResponse {
        access_token: session.access_token,
        token_type: "Bearer",
        expires_in: session.expires_in,
    };
    let max_age = state.accounts.refresh_ttl().as_secs() as i64;
    with_cookie(
        Json(body).into_response(),
        refresh_cookie(state, session.refresh_token, max_age),
    )
}

fn refresh_cookie(state: &App, value: String, max_age_seconds: i64) -> String {
    let jwt = &state.config.jwt;
    cookie::Cookie::build((jwt.cookie_name.clone(), value))
        .http_only(true)
        .secure(jwt.cookie_secure)
        .same_site(match jwt.cookie_same_site {
            SameSite::Strict => cookie::SameSite::Strict,
            SameSite::Lax => cookie::SameSite::Lax,
            SameSite::None => cookie::SameSite::None,
        })
        // Only the auth routes ever need to see it.
        .path("/api/auth")
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build()
        .to_string()
}

fn clear_cookie(state: &App) -> String {
    refresh_cookie(state, String::new(), 0)
}

fn with_cookie(mut response: Response, cookie: String) -> Response {
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}
