//! keydesk: the software at the platform's UKey renewal desk. The domain core (`domain`) and the
//! working-day clocks (`sla`) hold the rules; `store` is the shared database; `ops` holds the use cases
//! the faces call: the command line, the desk terminal (`desk`) and the member endpoint (`member`).

#![forbid(unsafe_code)]

pub mod ca;
pub mod cli;
pub mod clock;
pub mod demo;
pub mod desk;
pub mod docs;
pub mod domain;
pub mod member;
pub mod ops;
pub mod outbound;
pub mod provision;
pub mod report;
pub mod route_push;
pub mod services;
pub mod sla;
pub mod store;
pub mod synthetic;
pub mod token;
pub mod worker;
