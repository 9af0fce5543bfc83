//! keydesk: the software at the platform's UKey renewal desk. The domain core (`domain`) holds the
//! rules; `store` is the shared database; `ops` holds the use cases the faces call (the command line
//! today; the desk terminal and the member endpoint build on the same functions).

#![forbid(unsafe_code)]

pub mod ca;
pub mod cli;
pub mod config;
pub mod domain;
pub mod exit;
pub mod logging;
pub mod synthetic;
pub mod ops;
pub mod store;
pub mod token;
