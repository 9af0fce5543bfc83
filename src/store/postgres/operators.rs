//! [`OperatorStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::PgStore;
use crate::store::operators::{INSERT_OPERATOR, SELECT_OPERATOR_BY_NAME};
use crate::store::rows::OperatorRow;
use crate::store::{OperatorRecord, OperatorStore, StoreError, StoreResult};

#[async_trait]
impl OperatorStore for PgStore {
    async fn add_operator(&self, name: &str, password_hash: &str, at: DateTime<Utc>) -> StoreResult<OperatorRecord> {
        let row: OperatorRow = sqlx::query_as(INSERT_OPERATOR)
            .bind(name)
            .bind(password_hash)
            .bind(true)
            .bind(at)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::OperatorExists(name.to_string()),
                _ => StoreError::from_sqlx(e),
            })?;
        Ok(row.into())
    }

    async fn operator_by_name(&self, name: &str) -> StoreResult<Option<OperatorRecord>> {
        let row: Option<OperatorRow> = sqlx::query_as(SELECT_OPERATOR_BY_NAME)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(row.map(Into::into))
    }
}
