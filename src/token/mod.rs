//! The member's key at the desk, as an adapter: watching readers and cards over PC/SC (`reader`),
//! reaching the key through its vendor's PKCS#11 module in a separate worker process (`pkcs11`,
//! `worker`), and the demo's card in the virtual reader (`virtual_card`). What a key reports is plain
//! data in `domain::key_report`; the renewal job's rules are in `domain::renewal_job`; telling whose
//! key is in the reader is the use case `ops::identify`.

pub mod pkcs11;
pub mod reader;
pub mod settings;
pub mod virtual_card;
pub mod worker;

pub use settings::{TokenSettings, VendorModule};
