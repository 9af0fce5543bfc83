//! What a key reports about itself, as plain data: the token (serial, label, vendor, PIN flags) and
//! the objects readable in a session. The PKCS#11 adapter (`token::pkcs11`) fills it in; the renewal
//! rules (`domain::renewal_job`) and the faces read it.

use serde::{Deserialize, Serialize};

/// The PIN flags PKCS#11 shows: never a count, only low / final try / locked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinFlags {
    pub count_low: bool,
    pub final_try: bool,
    pub locked: bool,
    pub to_be_changed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSummary {
    pub serial: String,
    pub label: String,
    pub manufacturer: String,
    pub model: String,
    /// The slot's description: for a reader-based key, usually the reader's name.
    pub slot_description: String,
    pub pin: PinFlags,
}

/// One object on the token, as far as it can be read in the current session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectInfo {
    pub class: String,
    pub label: String,
    /// CKA_ID, hex.
    pub id: String,
    pub private: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modulus_bits: Option<u64>,
    /// A certificate's DER, hex (public objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// SHA-256 over every attribute readable here: equal digests mean byte-for-byte equal objects.
    pub digest: String,
}

/// What `token show` and the renewal checks read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenReport {
    pub token: TokenSummary,
    pub logged_in: bool,
    pub objects: Vec<ObjectInfo>,
}
