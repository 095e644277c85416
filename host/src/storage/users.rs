//! Users.

use sqlx::FromRow;

use super::{Store, StoreResult};
use crate::domain::now_ms;

#[derive(Clone, Debug, FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub email_verified_at: Option<i64>,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
    /// 0/1 in the database; read it with [`UserRow::is_operator`].
    #[sqlx(rename = "is_admin")]
    operator_flag: i64,
}

impl UserRow {
    /// An operator may manage plugins for everyone.
    pub fn is_operator(&self) -> bool {
        self.operator_flag != 0
    }
}

const USER_COLUMNS: &str =
    "id, email, password_hash, email_verified_at, disabled_at, created_at, is_admin";

impl Store {
    /// Inserts a user; a taken e-mail surfaces as a unique violation.
    pub async fn insert_user(
        &self,
        id: &str,
        email: &str,
        password_hash: &str,
        verified: bool,
    ) -> StoreResult<()> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO users (id, email, email_lower, password_hash, email_verified_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(id)
        .bind(email)
        .bind(email.to_lowercase())
        .bind(password_hash)
        .bind(verified.then_some(now))
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email_lower = $1");
        Ok(sqlx::query_as(&sql)
            .bind(email.to_lowercase())
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> StoreResult<()> {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now_ms())
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Marks the user verified (idempotent: keeps the first verification time).
    pub async fn mark_email_verified(&self, user_id: &str) -> StoreResult<()> {
        let now = now_ms();
        sqlx::query("UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Switches to a new, verified address; a taken address is a unique violation.
    pub async fn change_email(&self, user_id: &str, new_email: &str) -> StoreResult<()> {
        let now = now_ms();
        sqlx::query("UPDATE users SET email = $1, email_lower = $2, email_verified_at = $3, updated_at = $3 WHERE id = $4")
            .bind(new_email)
            .bind(new_email.to_lowercase())
            .bind(now)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Disables or re-enables a user by e-mail; false if there is no such user.
    pub async fn set_user_disabled(&self, email: &str, disabled: bool) -> StoreResult<bool> {
        let now = now_ms();
        let result = sqlx::query(
            "UPDATE users SET disabled_at = CASE WHEN $1 = 1 THEN COALESCE(disabled_at, $2) ELSE NULL END, updated_at = $2
             WHERE email_lower = $3",
        )
        .bind(i64::from(disabled))
        .bind(now)
        .bind(email.trim().to_lowercase())
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Makes the user with this address an operator (or not); false when no
    /// user has it.
    pub async fn set_user_operator(&self, email: &str, operator: bool) -> StoreResult<bool> {
        let result =
            sqlx::query("UPDATE users SET is_admin = $1, updated_at = $2 WHERE email_lower = $3")
                .bind(i64::from(operator))
                .bind(now_ms())
                .bind(email.trim().to_lowercase())
                .execute(&self.writer)
                .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Deletes the user and everything the user owns, in one transaction.
    /// Messages and their tag rows carry no foreign keys on PostgreSQL (they
    /// cost ingest a third of its database CPU, see migration 0006), so they
    /// are removed here first; foreign keys cascade to everything else.
    pub async fn delete_user(&self, user_id: &str) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM message_tags WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        // By endpoint: the user index holds live messages only.
        sqlx::query(
            "DELETE FROM messages WHERE endpoint_id IN (SELECT id FROM ingest_endpoints WHERE user_id = $1)",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        let result = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(result.rows_affected() > 0)
    }
}
