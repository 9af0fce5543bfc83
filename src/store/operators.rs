//! Desk operators: adding one (with a password hash made by the caller) and finding one by name.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;

#[async_trait]
pub trait OperatorStore: Send + Sync {
    /// Adds an active operator; [`super::StoreError::OperatorExists`] when the name is taken.
    async fn add_operator(&self, name: &str, password_hash: &str, at: DateTime<Utc>) -> StoreResult<OperatorRecord>;
    async fn operator_by_name(&self, name: &str) -> StoreResult<Option<OperatorRecord>>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRecord {
    pub id: i64,
    pub name: String,
    pub password_hash: String,
    pub active: bool,
}

pub(super) const INSERT_OPERATOR: &str = "INSERT INTO operators (name, password_hash, active, created_at) \
VALUES ($1, $2, $3, $4) RETURNING id, name, password_hash, active";

pub(super) const SELECT_OPERATOR_BY_NAME: &str =
    "SELECT id, name, password_hash, active FROM operators WHERE name = $1";
