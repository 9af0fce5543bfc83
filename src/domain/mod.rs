//! The pure core: identifiers, money and the rules around them. Nothing in here does I/O.
//! (This branch adds only `tax`; the lead's `mod.rs` carries the other modules.)

pub mod tax;
