//! A key's serial (key编号): one value however it is written. The platform writes it in upper case
//! (`6802BDAF34F798E5`); the key itself reports it through PKCS#11 as its vendor chose — lower-case
//! hex, padded with spaces to 16 bytes in `CK_TOKEN_INFO.serialNumber`, or typed by staff in
//! full-width forms. Every comparison goes through the canonical form: half-width, no spaces or
//! padding (nor NULs), upper case.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct KeySerial(String);

impl KeySerial {
    /// The serial in its canonical form.
    pub fn new(raw: &str) -> KeySerial {
        KeySerial(super::scan_text::canonical_identifier(raw).chars().filter(|c| !c.is_control()).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a serial written any other way (a token's report, a search) names this key.
    pub fn is(&self, raw: &str) -> bool {
        !self.0.is_empty() && KeySerial::new(raw) == *self
    }
}

impl From<String> for KeySerial {
    fn from(raw: String) -> Self {
        KeySerial::new(&raw)
    }
}

impl From<&str> for KeySerial {
    fn from(raw: &str) -> Self {
        KeySerial::new(raw)
    }
}

impl From<KeySerial> for String {
    fn from(s: KeySerial) -> Self {
        s.0
    }
}

impl std::fmt::Display for KeySerial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_s_own_serial_names_the_platform_s_key() {
        let order = KeySerial::new("6802BDAF34F798E5");
        assert!(order.is("6802bdaf34f798e5"), "lower-case hex as SoftHSM reports it");
        assert!(order.is("6802bdaf34f798e5 "), "space padding of CK_TOKEN_INFO.serialNumber");
        assert!(order.is("６８０２ＢＤＡＦ３４Ｆ７９８Ｅ５"), "full-width forms");
        assert!(order.is("6802bdaf34f798e5\0"), "NUL padding");
        assert!(!order.is("6802bdaf34f798e6"));
        assert!(!KeySerial::new("").is(""), "an empty serial names no key");
        assert_eq!(KeySerial::new(" 15510216518 ").as_str(), "15510216518");
    }

    #[test]
    fn it_reads_and_writes_as_its_canonical_string() {
        let s: KeySerial = serde_json::from_str("\"6802bdaf34f798e5\"").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"6802BDAF34F798E5\"");
    }
}
