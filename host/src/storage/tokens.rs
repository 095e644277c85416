//! One-time mail tokens (verification, e-mail change, password reset) and
//! rotating refresh tokens. Only hashes of tokens are stored.

use sqlx::FromRow;

use super::{Store, StoreResult};
use crate::domain::{new_id, now_ms};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    ChangeEmail,
    ResetPassword,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ChangeEmail => "change_email",
            TokenPurpose::ResetPassword => "reset_password",
        }
    }
}

#[derive(Clone, Debug, FromRow)]
pub struct UserTokenRow {
    pub user_id: String,
    pub purpose: String,
    pub new_email: Option<String>,
}

/// What presenting a refresh token led to.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was valid; it is now rotated and the new one stored.
    Rotated { user_id: String },
    /// The token had already been rotated: its whole family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

#[derive(FromRow)]
struct RefreshRow {
    id: String,
    user_id: String,
    family_id: String,
    expires_at: i64,
    rotated_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl Store {
    pub async fn insert_user_token(
        &self,
        user_id: &str,
        purpose: TokenPurpose,
        token_hash: &str,
        new_email: Option<&str>,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO user_tokens (id, user_id, purpose, token_hash, new_email, expires_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id())
        .bind(user_id)
        .bind(purpose.as_str())
        .bind(token_hash)
        .bind(new_email)
        .bind(expires_at)
        .bind(now_ms())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Uses a one-time token atomically: returns it only if it exists, has one of
    /// the (one or two) given purposes, is unexpired and was not used before.
    pub async fn consume_user_token(
        &self,
        token_hash: &str,
        purposes: (TokenPurpose, TokenPurpose),
    ) -> StoreResult<Option<UserTokenRow>> {
        let now = now_ms();
        Ok(sqlx::query_as(
            "UPDATE user_tokens SET used_at = $1
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 AND purpose IN ($3, $4)
             RETURNING user_id, purpose, new_email",
        )
        .bind(now)
        .bind(token_hash)
        .bind(purposes.0.as_str())
        .bind(purposes.1.as_str())
        .fetch_optional(&self.writer)
        .await?)
    }

    pub async fn insert_refresh_token(
        &self,
        user_id: &str,
        family_id: &str,
        token_hash: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(user_id)
        .bind(family_id)
        .bind(token_hash)
        .bind(expires_at)
        .bind(now_ms())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Rotates a refresh token: the presented one is marked rotated and
    /// `new_hash` joins the same family, in one transaction. Presenting a token
    /// that was already rotated revokes the family (a stolen token was used).
    pub async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        expires_at: i64,
    ) -> StoreResult<RefreshOutcome> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let row: Option<RefreshRow> = sqlx::query_as(
            "SELECT id, user_id, family_id, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(old_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(RefreshOutcome::Invalid);
        };
        if row.revoked_at.is_some() || row.expires_at <= now {
            return Ok(RefreshOutcome::Invalid);
        }
        let claimed = if row.rotated_at.is_none() {
            sqlx::query("UPDATE refresh_tokens SET rotated_at = $1 WHERE id = $2 AND rotated_at IS NULL AND revoked_at IS NULL")
                .bind(now)
                .bind(&row.id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1
        } else {
            false
        };
        if !claimed {
            sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(&row.family_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(RefreshOutcome::Reused);
        }
        sqlx::query(
            "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(&row.user_id)
        .bind(&row.family_id)
        .bind(new_hash)
        .bind(expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RefreshOutcome::Rotated {
            user_id: row.user_id,
        })
    }

    /// Deletes refresh tokens and one-time tokens that expired before
    /// `before_ms`: nothing can use them any more. Rotated refresh tokens stay
    /// until then, so a replayed one still revokes its family. Returns how
    /// many rows went. (A scan: these tables hold a few rows per user.)
    pub async fn purge_expired_tokens(&self, before_ms: i64) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let refresh = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < $1")
            .bind(before_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let one_time = sqlx::query("DELETE FROM user_tokens WHERE expires_at < $1")
            .bind(before_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(refresh + one_time)
    }

    /// Revokes the family the given token belongs to (logout).
    pub async fn revoke_refresh_family_of(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1
             WHERE revoked_at IS NULL AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $2)",
        )
        .bind(now_ms())
        .bind(token_hash)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Revokes every session of the user except the family of `keep_token_hash`.
    pub async fn revoke_other_refresh_families(
        &self,
        user_id: &str,
        keep_token_hash: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1
             WHERE user_id = $2 AND revoked_at IS NULL
               AND family_id <> COALESCE((SELECT family_id FROM refresh_tokens WHERE token_hash = $3 AND user_id = $2), '')",
        )
        .bind(now_ms())
        .bind(user_id)
        .bind(keep_token_hash.unwrap_or(""))
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
