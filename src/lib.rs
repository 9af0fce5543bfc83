//! keydesk: the UKey mail-back renewal desk.
#![forbid(unsafe_code)]

pub mod docs;
pub mod domain;
pub mod outbound;
