//! The use cases, one file each. Every face (the command line now, the desk terminal and the member
//! endpoint later) calls these functions, so the faces cannot drift apart. Each takes the store and
//! whatever adapters it needs, checks the domain rules, and writes the change with its audit row.

pub mod book;
pub mod change;
pub mod delivery;
pub mod generate;
pub mod identify;
pub mod import;
pub mod intake;
pub mod invoice;
pub mod label;
pub mod member;
pub mod notify;
pub mod operators;
pub mod orders;
pub mod print;
pub mod renew;
pub mod report;
pub mod routes;
pub mod ship;
pub mod sla;

use crate::domain::order::TransitionError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Rule(#[from] TransitionError),
    #[error("找不到订单 {0}")]
    OrderNotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("操作员 {0} 不存在或已停用（用 `keydesk operator add {0}` 添加）")]
    UnknownOperator(String),
    #[error("操作员或密码错误")]
    BadCredentials,
    #[error(transparent)]
    Doc(#[from] crate::docs::DocError),
    #[error(transparent)]
    Font(#[from] crate::docs::FontError),
    #[error(transparent)]
    Sla(#[from] crate::sla::SlaError),
}
