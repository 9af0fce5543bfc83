//! Desk operators: adding one with a password or PIN hashed with argon2, signing in, and checking that
//! the operator named on a change exists and is active. These use cases need the operators alone, so
//! they take any [`OperatorStore`] (the whole `dyn Store` included), and are tested below against an
//! in-memory one.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::clock::Clock;
use crate::store::{OperatorRecord, OperatorStore};

use super::OpsError;

/// The shortest password or PIN accepted for an operator.
pub const MIN_SECRET_LEN: usize = 4;

pub async fn add_operator<S: OperatorStore + ?Sized>(
    store: &S,
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
pub async fn sign_in<S: OperatorStore + ?Sized>(
    store: &S,
    name: &str,
    secret: &str,
) -> Result<OperatorRecord, OpsError> {
    let record = store.operator_by_name(name.trim()).await?.filter(|o| o.active);
    let Some(record) = record else {
        return Err(OpsError::BadCredentials);
    };
    let parsed = PasswordHash::new(&record.password_hash).map_err(|_| OpsError::BadCredentials)?;
    Argon2::default().verify_password(secret.as_bytes(), &parsed).map_err(|_| OpsError::BadCredentials)?;
    Ok(record)
}

/// The operator named on a change from the command line must exist and be active.
pub async fn require_operator<S: OperatorStore + ?Sized>(store: &S, name: &str) -> Result<OperatorRecord, OpsError> {
    store
        .operator_by_name(name.trim())
        .await?
        .filter(|o| o.active)
        .ok_or_else(|| OpsError::UnknownOperator(name.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::store::{StoreError, StoreResult};

    /// The operators table in memory: names are unique, as the database's constraint makes them.
    #[derive(Default)]
    struct FakeOperators {
        rows: Mutex<Vec<OperatorRecord>>,
    }

    impl FakeOperators {
        fn deactivate(&self, name: &str) {
            self.rows.lock().unwrap().iter_mut().filter(|r| r.name == name).for_each(|r| r.active = false);
        }
    }

    #[async_trait]
    impl OperatorStore for FakeOperators {
        async fn add_operator(
            &self,
            name: &str,
            password_hash: &str,
            _at: DateTime<Utc>,
        ) -> StoreResult<OperatorRecord> {
            let mut rows = self.rows.lock().unwrap();
            if rows.iter().any(|r| r.name == name) {
                return Err(StoreError::OperatorExists(name.to_string()));
            }
            let record = OperatorRecord {
                id: rows.len() as i64 + 1,
                name: name.to_string(),
                password_hash: password_hash.to_string(),
                active: true,
            };
            rows.push(record.clone());
            Ok(record)
        }

        async fn operator_by_name(&self, name: &str) -> StoreResult<Option<OperatorRecord>> {
            Ok(self.rows.lock().unwrap().iter().find(|r| r.name == name).cloned())
        }
    }

    fn clock() -> Clock {
        Clock::fixed(DateTime::from_timestamp(1_767_225_600, 0).unwrap())
    }

    #[tokio::test]
    async fn an_added_operator_signs_in_with_the_right_secret_only() {
        let store = FakeOperators::default();
        let added = add_operator(&store, "  秦经理 ", "2468", &clock()).await.unwrap();
        assert_eq!((added.name.as_str(), added.active), ("秦经理", true));
        assert!(added.password_hash.starts_with("$argon2"), "stored hashed: {}", added.password_hash);
        assert!(!added.password_hash.contains("2468"));

        assert_eq!(sign_in(&store, "秦经理", "2468").await.unwrap(), added);
        assert_eq!(sign_in(&store, " 秦经理 ", "2468").await.unwrap().id, added.id, "the name is trimmed");
        assert!(matches!(sign_in(&store, "秦经理", "0000").await, Err(OpsError::BadCredentials)));
        assert!(matches!(sign_in(&store, "秦经理", "").await, Err(OpsError::BadCredentials)));
    }

    #[tokio::test]
    async fn an_unknown_or_inactive_operator_gets_the_same_refusal_as_a_wrong_secret() {
        let store = FakeOperators::default();
        assert!(matches!(sign_in(&store, "nobody", "2468").await, Err(OpsError::BadCredentials)));
        add_operator(&store, "wang", "1357", &clock()).await.unwrap();
        store.deactivate("wang");
        assert!(matches!(sign_in(&store, "wang", "1357").await, Err(OpsError::BadCredentials)));
    }

    #[tokio::test]
    async fn a_duplicate_name_is_refused_and_the_first_secret_still_works() {
        let store = FakeOperators::default();
        add_operator(&store, "qin", "2468", &clock()).await.unwrap();
        let dup = add_operator(&store, "qin", "1357", &clock()).await.unwrap_err();
        assert!(matches!(dup, OpsError::Store(StoreError::OperatorExists(ref n)) if n == "qin"), "{dup:?}");
        assert!(sign_in(&store, "qin", "2468").await.is_ok());
        assert!(matches!(sign_in(&store, "qin", "1357").await, Err(OpsError::BadCredentials)));
    }

    #[tokio::test]
    async fn names_and_secrets_are_checked_before_anything_is_stored() {
        let store = FakeOperators::default();
        for (name, secret) in
            [("", "2468"), ("   ", "2468"), ("a\tb", "2468"), (&"x".repeat(33), "2468"), ("qin", "123")]
        {
            let refused = add_operator(&store, name, secret, &clock()).await.unwrap_err();
            assert!(matches!(refused, OpsError::Invalid(_)), "{name:?}/{secret:?}: {refused:?}");
        }
        assert!(add_operator(&store, &"x".repeat(32), "1234", &clock()).await.is_ok(), "32 characters and 4 digits");
        assert_eq!(store.rows.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_change_names_an_existing_active_operator() {
        let store = FakeOperators::default();
        add_operator(&store, "qin", "2468", &clock()).await.unwrap();
        assert_eq!(require_operator(&store, " qin ").await.unwrap().name, "qin");
        assert!(matches!(require_operator(&store, "li").await, Err(OpsError::UnknownOperator(ref n)) if n == "li"));
        store.deactivate("qin");
        assert!(matches!(require_operator(&store, "qin").await, Err(OpsError::UnknownOperator(_))));
    }
}
