//! Dev-only provisioning, as a key vendor does it: SoftHSM tokens that choose their own serial, with a
//! member's key pair and a certificate from the local CA (`softhsm`). The `keydesk dev` commands
//! (`cli::dev`) and the tests use it; the desk never does.

pub mod softhsm;
