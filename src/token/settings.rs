//! `[token]`: the PKCS#11 modules (a default, and vendors chosen by the card's ATR) and the token
//! worker's time limits.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenSettings {
    /// The PKCS#11 module used when no vendor entry matches the card's ATR.
    pub module: PathBuf,
    /// Seconds a token worker may take for one operation (key generation on a real UKey takes seconds)
    /// before it is killed; the job stays where its journal says and a re-run continues it.
    pub worker_timeout_secs: u64,
    /// Seconds key generation usually takes on the desk's keys: the scale of the desk's progress gauge
    /// while the key generates its new pair (PKCS#11 reports no progress).
    pub keygen_typical_secs: u64,
    /// Vendor modules chosen by the card's ATR; the longest matching prefix wins.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vendors: Vec<VendorModule>,
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            module: PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"),
            worker_timeout_secs: 120,
            keygen_typical_secs: 20,
            vendors: Vec::new(),
        }
    }
}

/// `[[token.vendors]]`: one key vendor's module, recognised by the ATR's first bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorModule {
    pub name: String,
    pub module: PathBuf,
    /// Hex, spaces and colons allowed: `"3B 9F 95 81"`.
    pub atr_prefix: String,
}

impl VendorModule {
    pub fn prefix_bytes(&self) -> Option<Vec<u8>> {
        let clean: String = self.atr_prefix.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        hex::decode(clean).ok()
    }
}

impl TokenSettings {
    /// The module for the key in the reader: `explicit` (`--module`), else by the ATR of the one card
    /// present, else `token.module`.
    pub fn choose_module(&self, explicit: Option<String>) -> String {
        if let Some(m) = explicit {
            return m;
        }
        let cards = super::reader::present_cards();
        match cards.as_slice() {
            [(_, atr)] => self.module_for_atr(atr).1.display().to_string(),
            _ => self.module.display().to_string(),
        }
    }

    /// How long a token worker may take for one operation before it is killed.
    pub fn worker_timeout(&self) -> Duration {
        Duration::from_secs(self.worker_timeout_secs)
    }

    /// The vendor and module for a card's ATR: the longest matching `atr_prefix`, else `token.module`.
    pub fn module_for_atr(&self, atr: &[u8]) -> (Option<&str>, &Path) {
        self.vendors
            .iter()
            .filter_map(|v| v.prefix_bytes().filter(|p| !p.is_empty() && atr.starts_with(p)).map(|p| (p.len(), v)))
            .max_by_key(|(len, _)| *len)
            .map(|(_, v)| (Some(v.name.as_str()), v.module.as_path()))
            .unwrap_or((None, self.module.as_path()))
    }
}
