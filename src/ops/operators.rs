//! Desk operators: adding one with a password or PIN hashed with argon2, signing in, and checking that
//! the operator named on a change exists and is active.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::clock::Clock;
use crate::store::{OperatorRecord, Store};

use super::OpsError;

/// The shortest password or PIN accepted for an operator.
pub const MIN_SECRET_LEN: usize = 4;

pub async fn add_operator(
    store: &dyn Store,
    name: &str,
    secret: &str,
    clock: &Clock,
) -> Result<OperatorRecord, OpsError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 32 || name.chars().any(char::is_control) {
        return Err(OpsError::Invalid("操作员名称需为 1–32 个字符".into()));
    }
    if secret.chars().count() < MIN_SECRET_LEN {
        return Err(OpsError::Invalid(format!("密码或 PIN 至少 {MIN_SECRET_LEN} 位")));
    }
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|e| OpsError::Invalid(format!("cannot hash the password: {e}")))?
        .to_string();
    Ok(store.add_operator(name, &hash, clock.now()).await?)
}

/// Signs an operator in; the same error for an unknown name and a wrong password.
pub async fn sign_in(store: &dyn Store, name: &str, secret: &str) -> Result<OperatorRecord, OpsError> {
    let record = store.operator_by_name(name.trim()).await?.filter(|o| o.active);
    let Some(record) = record else {
        return Err(OpsError::BadCredentials);
    };
    let parsed = PasswordHash::new(&record.password_hash).map_err(|_| OpsError::BadCredentials)?;
    Argon2::default().verify_password(secret.as_bytes(), &parsed).map_err(|_| OpsError::BadCredentials)?;
    Ok(record)
}

/// The operator named on a change from the command line must exist and be active.
pub async fn require_operator(store: &dyn Store, name: &str) -> Result<OperatorRecord, OpsError> {
    store
        .operator_by_name(name.trim())
        .await?
        .filter(|o| o.active)
        .ok_or_else(|| OpsError::UnknownOperator(name.trim().to_string()))
}
