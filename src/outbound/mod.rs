//! Adapters that send things out of keydesk: documents to printers and shipments to couriers.
//! Each backend is chosen by configuration and reports outcomes the durable queue can act on.

pub mod courier;
pub mod notify;
pub mod printer;
