//! `Waybill`: an SF Express waybill number, inbound (the member's parcel) or outbound (our return).
//! Current SF numbers are `SF` + 13 digits, legacy ones 12 digits. Scanner input is noisy, so parsing
//! normalises first; numbers of other couriers are recognised where their shape allows, so the desk can
//! say "not SF Express" instead of "invalid".

use std::fmt;

use serde::{Deserialize, Serialize};

use super::scan_text::canonical_identifier;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Waybill(String);

/// A courier recognised from the shape of its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Carrier {
    Sf,
    Yto,
    Jd,
    Jitu,
    Zto,
    Deppon,
    Ems,
    PostInternational,
    /// 13 or 15 bare digits: 邮政/EMS, 韵达 or 申通, which cannot be told apart by shape.
    OtherDigits,
}

impl Carrier {
    pub fn label(self) -> &'static str {
        match self {
            Carrier::Sf => "顺丰速运",
            Carrier::Yto => "圆通速递",
            Carrier::Jd => "京东物流",
            Carrier::Jitu => "极兔速递",
            Carrier::Zto => "中通快递",
            Carrier::Deppon => "德邦快递",
            Carrier::Ems => "EMS/中国邮政",
            Carrier::PostInternational => "国际邮政小包",
            Carrier::OtherDigits => "其他快递（邮政/韵达/申通等）",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WaybillError {
    #[error("运单号为空")]
    Empty,
    #[error("这是{}的单号 {number}，不是顺丰 — 平台只接受顺丰快递 (not SF Express — the platform accepts SF only)", carrier.label())]
    NotSf { carrier: Carrier, number: String },
    #[error("无法识别的运单号：{0}（顺丰单号为 SF+13 位数字，或旧式 12 位数字）")]
    Invalid(String),
}

impl Waybill {
    /// Parses a typed or scanned SF waybill.
    pub fn parse(raw: &str) -> Result<Self, WaybillError> {
        let s = canonical_identifier(raw);
        if s.is_empty() {
            return Err(WaybillError::Empty);
        }
        match recognise(&s) {
            Some(Carrier::Sf) => Ok(Waybill(s)),
            Some(carrier) => Err(WaybillError::NotSf { carrier, number: s }),
            None => Err(WaybillError::Invalid(s)),
        }
    }

    /// For 13 bare digits: the SF number it would be if a Chinese input method swallowed the `SF` prefix.
    /// The desk tries this against the orders before it reports the number as another courier's.
    pub fn with_swallowed_prefix(raw: &str) -> Option<Self> {
        let s = canonical_identifier(raw);
        (s.len() == 13 && all_digits(&s)).then(|| Waybill(format!("SF{s}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn recognise(s: &str) -> Option<Carrier> {
    let digits_after =
        |prefix: &str, n: usize| s.strip_prefix(prefix).is_some_and(|rest| rest.len() == n && all_digits(rest));
    let b = s.as_bytes();
    if digits_after("SF", 13) || (s.len() == 12 && all_digits(s)) {
        Some(Carrier::Sf)
    } else if digits_after("YT", 13) {
        Some(Carrier::Yto)
    } else if digits_after("JT", 13) {
        Some(Carrier::Jitu)
    } else if s.starts_with("JD") && (10..=20).contains(&s.len()) && s[2..].bytes().all(|c| c.is_ascii_alphanumeric()) {
        Some(Carrier::Jd)
    } else if s.starts_with("DPK") && (10..=16).contains(&s.len()) && all_digits(&s[3..]) {
        Some(Carrier::Deppon)
    } else if s.len() == 13
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..11].iter().all(u8::is_ascii_digit)
        && b[11..].iter().all(u8::is_ascii_uppercase)
    {
        Some(Carrier::PostInternational)
    } else if all_digits(s) && s.len() == 14 && s.starts_with('7') {
        Some(Carrier::Zto)
    } else if all_digits(s) && s.len() == 13 && (s.starts_with('1') || s.starts_with('9')) {
        Some(Carrier::Ems)
    } else if all_digits(s) && (s.len() == 13 || s.len() == 15) {
        Some(Carrier::OtherDigits)
    } else {
        None
    }
}

impl fmt::Display for Waybill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Waybill {
    type Error = WaybillError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Waybill::parse(&value)
    }
}

impl From<Waybill> for String {
    fn from(value: Waybill) -> Self {
        value.0
    }
}

impl std::str::FromStr for Waybill {
    type Err = WaybillError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Waybill::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn noisy_sf_scans_parse() {
        let table = [
            ("SF1234567890123", "SF1234567890123"),
            ("sf1234567890123\r\n", "SF1234567890123"),
            ("  SF 1234 5678 90123 ", "SF1234567890123"),
            ("ＳＦ１２３４５６７８９０１２３", "SF1234567890123"),
            ("s'f1234567890123", "SF1234567890123"),
            ("\tsF1234567890123\n", "SF1234567890123"),
            ("123456789012", "123456789012"),
            ("７２３４５６７８９０１２", "723456789012"),
        ];
        for (raw, want) in table {
            assert_eq!(Waybill::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}")).as_str(), want);
        }
    }

    #[test]
    fn other_couriers_are_named_not_invalid() {
        let table = [
            ("YT1234567890123", Carrier::Yto),
            ("yt1234567890123", Carrier::Yto),
            ("JT1234567890123", Carrier::Jitu),
            ("JDVA12345678901", Carrier::Jd),
            ("JDX012345678901", Carrier::Jd),
            ("DPK123456789012", Carrier::Deppon),
            ("1123456789012", Carrier::Ems),
            ("9876543210123", Carrier::Ems),
            ("EA123456789CN", Carrier::PostInternational),
            ("75123456789012", Carrier::Zto),
            ("4312345678901", Carrier::OtherDigits),
            ("312345678901234", Carrier::OtherDigits),
        ];
        for (raw, carrier) in table {
            match Waybill::parse(raw) {
                Err(WaybillError::NotSf { carrier: got, .. }) => assert_eq!(got, carrier, "{raw}"),
                other => panic!("{raw}: {other:?}"),
            }
        }
        let msg = Waybill::parse("YT1234567890123").unwrap_err().to_string();
        assert!(msg.contains("not SF Express — the platform accepts SF only"), "{msg}");
        assert!(msg.contains("圆通"), "{msg}");
    }

    #[test]
    fn garbage_is_invalid() {
        for raw in ["SF123", "SF12345678901234", "hello", "SF-1234567890123", "12345", "顺丰"] {
            assert!(matches!(Waybill::parse(raw), Err(WaybillError::Invalid(_))), "{raw}");
        }
        assert_eq!(Waybill::parse(" \r\n"), Err(WaybillError::Empty));
    }

    #[test]
    fn multibyte_input_of_postal_length_is_invalid_not_a_panic() {
        // Found by the property test: 13 bytes that are not 13 characters once sliced the string inside one.
        for raw in ["AA0ΣꫛA𝒥", "WK=ѨꫩE𝒥"] {
            assert!(matches!(Waybill::parse(raw), Err(WaybillError::Invalid(_))), "{raw}");
        }
    }

    #[test]
    fn swallowed_prefix_is_offered_for_thirteen_digits_only() {
        assert_eq!(Waybill::with_swallowed_prefix("1234567890123").unwrap().as_str(), "SF1234567890123");
        assert!(Waybill::with_swallowed_prefix("123456789012").is_none());
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC*") {
            let _ = Waybill::parse(&s);
            let _ = Waybill::with_swallowed_prefix(&s);
        }

        #[test]
        fn every_sf_number_survives_scanner_noise(d in "[0-9]{13}", lower in any::<bool>(), tail in "[\r\n ]{0,3}") {
            let prefix = if lower { "sf" } else { "SF" };
            let w = Waybill::parse(&format!("{prefix}{d}{tail}")).unwrap();
            prop_assert_eq!(w.as_str(), format!("SF{d}"));
        }
    }
}
