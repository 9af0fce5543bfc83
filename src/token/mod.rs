//! The member's key at the desk: watching readers and cards over PC/SC (`reader`), reaching the key
//! through its vendor's PKCS#11 module in a separate worker process (`pkcs11`, `worker`), and the
//! journaled renewal job (`job`); `identify` tells whose key is in the reader. Dev-only provisioning of SoftHSM demo keys lives in `softhsm` and `dev`, the demo's card in the
//! virtual reader in `virtual_card`; `commands` holds the
//! command-line faces (`reader watch`, `token show`, `renew`).

pub mod commands;
pub mod dev;
pub mod identify;
pub mod job;
pub mod pkcs11;
pub mod reader;
pub mod softhsm;
pub mod virtual_card;
pub mod worker;
