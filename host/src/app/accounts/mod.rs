//! Accounts and sessions (SPEC §4): sign-up, e-mail verification, log-in with a
//! short-lived JWT plus a rotating refresh token, password reset, e-mail and
//! password change, account deletion, and the auth rate limits.

pub mod jwt;
pub mod password;
pub mod secrets;

use std::net::IpAddr;
use std::time::Duration;

use crate::app::ingest::Ingest;
use crate::config::Config;
use crate::domain::{new_id, now_ms};
use crate::error::{AppError, AppResult};
use crate::mail::Mailer;
use crate::ratelimit::KeyedLimiter;
use crate::storage::{RefreshOutcome, Store, TokenPurpose, UserRow};

use jwt::AccessTokens;
use password::{hash_password, validate_new_password, verify_password};
use secrets::{random_token, sha256_hex};

const VERIFY_TTL: Duration = Duration::from_secs(24 * 3600);
const RESET_TTL: Duration = Duration::from_secs(3600);

/// A logged-in session: the access token for JSON and the refresh token for the cookie.
pub struct Session {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
}

/// The auth-rate-limited actions; each has its own budget.
#[derive(Clone, Copy)]
pub enum LimitedAction {
    Signup,
    Login,
    ForgotPassword,
    ResendVerification,
}

impl LimitedAction {
    fn as_str(self) -> &'static str {
        match self {
            LimitedAction::Signup => "signup",
            LimitedAction::Login => "login",
            LimitedAction::ForgotPassword => "forgot",
            LimitedAction::ResendVerification => "resend",
        }
    }
}

#[derive(Clone)]
pub struct Accounts {
    store: Store,
    /// Holds cached endpoint credentials that account changes make stale.
    ingest: Ingest,
    mailer: Mailer,
    tokens: AccessTokens,
    refresh_ttl: Duration,
    app_base_url: String,
    per_ip: KeyedLimiter,
    per_email: KeyedLimiter,
}

impl Accounts {
    pub fn new(config: &Config, store: Store, mailer: Mailer, ingest: Ingest) -> Self {
        let per_ip = KeyedLimiter::per_minute(config.rate_limits.auth_per_ip_per_minute);
        let per_email = KeyedLimiter::per_minute(config.rate_limits.auth_per_email_per_minute);
        per_ip.spawn_cleanup();
        per_email.spawn_cleanup();
        Accounts {
            store,
            ingest,
            mailer,
            tokens: AccessTokens::new(&config.jwt.signing_key, config.jwt.access_ttl.as_secs()),
            refresh_ttl: config.jwt.refresh_ttl,
            app_base_url: config.app_base_url.clone(),
            per_ip,
            per_email,
        }
    }

    pub fn refresh_ttl(&self) -> Duration {
        self.refresh_ttl
    }

    /// Applies both auth rate limits for an action.
    pub fn check_rate(&self, action: LimitedAction, ip: IpAddr, email: &str) -> AppResult<()> {
        self.per_ip.check(&format!("{}:{ip}", action.as_str()))?;
        self.per_email.check(&format!(
            "{}:{}",
            action.as_str(),
            email.trim().to_lowercase()
        ))
    }

    /// Creates an account and mails the verification link.
    pub async fn signup(&self, email: &str, password: &str) -> AppResult<UserRow> {
        let email = normalize_email(email, "email")?;
        validate_new_password(password, "password")?;
        let user = self.create_user(&email, password, false).await?;
        self.send_verification(&user.id, &email, TokenPurpose::VerifyEmail)
            .await?;
        Ok(user)
    }

    /// Operator bootstrap (`beacon user create`): no mail, optionally verified.
    pub async fn create_user(
        &self,
        email: &str,
        password: &str,
        verified: bool,
    ) -> AppResult<UserRow> {
        let email = normalize_email(email, "email")?;
        validate_new_password(password, "password")?;
        let hash = hash_password(password.to_string()).await?;
        let id = new_id();
        self.store
            .insert_user(&id, &email, &hash, verified)
            .await
            .map_err(|err| taken_or_internal(err, "email"))?;
        self.store
            .user_by_id(&id)
            .await?
            .ok_or_else(|| AppError::internal("user vanished after insert"))
    }

    pub async fn login(&self, email: &str, password: &str) -> AppResult<Session> {
        let user = self.store.user_by_email(email.trim()).await?;
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        if !verify_password(password.to_string(), stored).await? {
            return Err(AppError::Unauthorized {
                code: "invalid_credentials",
                message: "e-mail or password is wrong".into(),
            });
        }
        let user = user.ok_or_else(|| AppError::internal("verified password without user"))?;
        if user.disabled_at.is_some() {
            return Err(account_disabled());
        }
        self.start_session(&user.id).await
    }

    async fn start_session(&self, user_id: &str) -> AppResult<Session> {
        let refresh_token = random_token();
        let expires_at = now_ms() + self.refresh_ttl.as_millis() as i64;
        self.store
            .insert_refresh_token(user_id, &new_id(), &sha256_hex(&refresh_token), expires_at)
            .await?;
        Ok(Session {
            access_token: self.tokens.issue(user_id)?,
            expires_in: self.tokens.ttl_seconds(),
            refresh_token,
        })
    }

    /// Rotates the refresh token; reuse of a rotated token revokes its family.
    pub async fn refresh(&self, refresh_token: Option<&str>) -> AppResult<Session> {
        let presented =
            refresh_token
                .filter(|t| !t.is_empty())
                .ok_or_else(|| AppError::Unauthorized {
                    code: "missing_refresh_token",
                    message: "no refresh token cookie was sent".into(),
                })?;
        let new_token = random_token();
        let expires_at = now_ms() + self.refresh_ttl.as_millis() as i64;
        match self
            .store
            .rotate_refresh_token(&sha256_hex(presented), &sha256_hex(&new_token), expires_at)
            .await?
        {
            RefreshOutcome::Rotated { user_id } => {
                let user = self
                    .store
                    .user_by_id(&user_id)
                    .await?
                    .ok_or_else(invalid_refresh)?;
                if user.disabled_at.is_some() {
                    return Err(account_disabled());
                }
                Ok(Session {
                    access_token: self.tokens.issue(&user_id)?,
                    expires_in: self.tokens.ttl_seconds(),
                    refresh_token: new_token,
                })
            }
            RefreshOutcome::Reused => {
                tracing::warn!("refresh token reuse detected; token family revoked");
                Err(AppError::Unauthorized {
                    code: "refresh_token_reused",
                    message: "this session was revoked; log in again".into(),
                })
            }
            RefreshOutcome::Invalid => Err(invalid_refresh()),
        }
    }

    pub async fn logout(&self, refresh_token: Option<&str>) -> AppResult<()> {
        if let Some(token) = refresh_token.filter(|t| !t.is_empty()) {
            self.store
                .revoke_refresh_family_of(&sha256_hex(token))
                .await?;
        }
        Ok(())
    }

    /// The user behind a bearer access token.
    pub async fn authenticate(&self, access_token: &str) -> AppResult<UserRow> {
        let user_id = self.tokens.verify(access_token)?;
        let user =
            self.store
                .user_by_id(&user_id)
                .await?
                .ok_or_else(|| AppError::Unauthorized {
                    code: "invalid_token",
                    message: "the account of this token no longer exists".into(),
                })?;
        if user.disabled_at.is_some() {
            return Err(account_disabled());
        }
        Ok(user)
    }

    /// Mails a new verification link if the address belongs to an unverified user.
    /// Always succeeds so the answer does not reveal which addresses exist.
    pub async fn resend_verification(&self, email: &str) -> AppResult<()> {
        if let Some(user) = self.store.user_by_email(email.trim()).await? {
            if user.email_verified_at.is_none() {
                self.send_verification(&user.id, &user.email, TokenPurpose::VerifyEmail)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn verify_email(&self, token: &str) -> AppResult<()> {
        let row = self
            .store
            .consume_user_token(
                &sha256_hex(token.trim()),
                (TokenPurpose::VerifyEmail, TokenPurpose::ChangeEmail),
            )
            .await?
            .ok_or_else(|| invalid_mail_token("token"))?;
        match row.new_email {
            Some(new_email) if row.purpose == TokenPurpose::ChangeEmail.as_str() => self
                .store
                .change_email(&row.user_id, &new_email)
                .await
                .map_err(|err| taken_or_internal(err, "token")),
            _ => Ok(self.store.mark_email_verified(&row.user_id).await?),
        }
    }

    /// Mails a reset link if the address exists; silent otherwise.
    pub async fn forgot_password(&self, email: &str) -> AppResult<()> {
        if let Some(user) = self.store.user_by_email(email.trim()).await? {
            let token = random_token();
            let expires_at = now_ms() + RESET_TTL.as_millis() as i64;
            self.store
                .insert_user_token(
                    &user.id,
                    TokenPurpose::ResetPassword,
                    &sha256_hex(&token),
                    None,
                    expires_at,
                )
                .await?;
            let link = format!("{}/reset-password?token={token}", self.app_base_url);
            let body = format!(
                "Someone asked to reset the password of your Beacon Spear account.\n\n\
                 Choose a new password here (the link works once, for one hour):\n{link}\n\n\
                 If this was not you, ignore this mail; your password stays as it is.\n"
            );
            self.mailer
                .send_later(user.email, "Reset your Beacon Spear password", body);
        }
        Ok(())
    }

    /// Sets a new password from a reset token and ends every session.
    pub async fn reset_password(&self, token: &str, new_password: &str) -> AppResult<()> {
        validate_new_password(new_password, "new_password")?;
        let row = self
            .store
            .consume_user_token(
                &sha256_hex(token.trim()),
                (TokenPurpose::ResetPassword, TokenPurpose::ResetPassword),
            )
            .await?
            .ok_or_else(|| invalid_mail_token("token"))?;
        let hash = hash_password(new_password.to_string()).await?;
        self.store.set_password_hash(&row.user_id, &hash).await?;
        self.store
            .revoke_other_refresh_families(&row.user_id, None)
            .await?;
        Ok(())
    }

    /// Changes the password; other devices are logged out, this one stays.
    pub async fn change_password(
        &self,
        user: &UserRow,
        current: &str,
        new: &str,
        this_refresh_token: Option<&str>,
    ) -> AppResult<()> {
        self.require_password(user, current, "current_password")
            .await?;
        validate_new_password(new, "new_password")?;
        let hash = hash_password(new.to_string()).await?;
        self.store.set_password_hash(&user.id, &hash).await?;
        let keep = this_refresh_token.map(sha256_hex);
        self.store
            .revoke_other_refresh_families(&user.id, keep.as_deref())
            .await?;
        Ok(())
    }

    /// Starts an e-mail change: the new address takes effect once its link is followed.
    pub async fn change_email(
        &self,
        user: &UserRow,
        new_email: &str,
        password: &str,
    ) -> AppResult<()> {
        let new_email = normalize_email(new_email, "new_email")?;
        self.require_password(user, password, "password").await?;
        if let Some(existing) = self.store.user_by_email(&new_email).await? {
            if existing.id != user.id {
                return Err(email_taken("new_email"));
            }
        }
        self.send_verification(&user.id, &new_email, TokenPurpose::ChangeEmail)
            .await
    }

    pub async fn delete_account(&self, user: &UserRow, password: &str) -> AppResult<()> {
        self.require_password(user, password, "password").await?;
        self.store.delete_user(&user.id).await?;
        self.ingest.forget_user(&user.id);
        tracing::info!(user_id = %user.id, "account deleted");
        Ok(())
    }

    /// Disables or re-enables an account (operator command); false when no
    /// user has that address. Its ingest keys stop or start working at once.
    pub async fn set_disabled(&self, email: &str, disabled: bool) -> AppResult<bool> {
        let Some(user) = self.store.user_by_email(email).await? else {
            return Ok(false);
        };
        let changed = self.store.set_user_disabled(email, disabled).await?;
        self.ingest.forget_user(&user.id);
        Ok(changed)
    }

    /// Makes a user an operator (operator command); false when no user has
    /// that address.
    pub async fn promote(&self, email: &str) -> AppResult<bool> {
        Ok(self.store.set_user_operator(email, true).await?)
    }

    async fn require_password(&self, user: &UserRow, password: &str, field: &str) -> AppResult<()> {
        if verify_password(password.to_string(), Some(user.password_hash.clone())).await? {
            Ok(())
        } else {
            Err(AppError::Forbidden {
                code: "wrong_password",
                message: "the password is wrong".into(),
                field: Some(field.into()),
            })
        }
    }

    async fn send_verification(
        &self,
        user_id: &str,
        to: &str,
        purpose: TokenPurpose,
    ) -> AppResult<()> {
        let token = random_token();
        let expires_at = now_ms() + VERIFY_TTL.as_millis() as i64;
        let new_email = (purpose == TokenPurpose::ChangeEmail).then_some(to);
        self.store
            .insert_user_token(user_id, purpose, &sha256_hex(&token), new_email, expires_at)
            .await?;
        let link = format!("{}/verify-email?token={token}", self.app_base_url);
        let body = format!(
            "Welcome to Beacon Spear.\n\nConfirm this e-mail address by opening the link below \
             (it works once, for 24 hours):\n{link}\n\nIf you did not ask for this, ignore this mail.\n"
        );
        self.mailer.send_later(
            to.to_string(),
            "Confirm your e-mail address for Beacon Spear",
            body,
        );
        Ok(())
    }
}

/// Trims and checks an address with lettre's parser; keeps the user's casing.
fn normalize_email(email: &str, field: &str) -> AppResult<String> {
    let email = email.trim();
    if email.len() > 254 || email.parse::<lettre::Address>().is_err() {
        return Err(AppError::validation(
            field,
            "must be a valid e-mail address",
        ));
    }
    Ok(email.to_string())
}

fn email_taken(field: &str) -> AppError {
    AppError::Conflict {
        code: "email_taken",
        message: "an account with this e-mail address already exists".into(),
        field: Some(field.into()),
    }
}

/// A unique violation on users means the address is taken; anything else is internal.
fn taken_or_internal(err: crate::storage::StoreError, field: &str) -> AppError {
    if err.is_unique_violation() {
        email_taken(field)
    } else {
        err.into()
    }
}

fn invalid_refresh() -> AppError {
    AppError::Unauthorized {
        code: "invalid_refresh_token",
        message: "the refresh token is invalid or expired".into(),
    }
}

fn invalid_mail_token(field: &str) -> AppError {
    AppError::BadRequest {
        code: "invalid_token",
        message: "the link is invalid, expired or already used".into(),
        field: Some(field.into()),
    }
}

fn account_disabled() -> AppError {
    AppError::Forbidden {
        code: "account_disabled",
        message: "this account is disabled".into(),
        field: None,
    }
}
