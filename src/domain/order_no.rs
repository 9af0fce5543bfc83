//! `OrderNo`: the platform's order number in its two shapes, `0000` + yymmdd + 6-digit daily sequence
//! (`0000250427000004`) and the payment number `ZFS` + `00000` + yymmdd + 5 digits (`ZFS0000025042700004`).
//! No check digit is known, so parsing checks the shape and that the embedded date exists.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::scan_text::canonical_identifier;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderNo(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderNoError {
    #[error("订单号为空 (empty order number)")]
    Empty,
    #[error("订单号格式不对：{0}（应为 0000+年月日+6 位序号，或 ZFS00000+年月日+5 位序号）")]
    Shape(String),
    #[error("订单号 {0} 中的日期 {1} 不存在")]
    ImpossibleDate(String, String),
}

impl OrderNo {
    pub fn parse(raw: &str) -> Result<Self, OrderNoError> {
        let s = canonical_identifier(raw);
        if s.is_empty() {
            return Err(OrderNoError::Empty);
        }
        let date_part = if s.len() == 16 && s.starts_with("0000") && s.bytes().all(|b| b.is_ascii_digit()) {
            &s[4..10]
        } else if s.len() == 19 && s.starts_with("ZFS00000") && s[3..].bytes().all(|b| b.is_ascii_digit()) {
            &s[8..14]
        } else {
            return Err(OrderNoError::Shape(s));
        };
        if embedded_date(date_part).is_none() {
            return Err(OrderNoError::ImpossibleDate(s.clone(), date_part.to_string()));
        }
        Ok(OrderNo(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The date the platform embedded in the number.
    pub fn date(&self) -> NaiveDate {
        let part = if self.0.starts_with("ZFS") { &self.0[8..14] } else { &self.0[4..10] };
        embedded_date(part).unwrap_or_default()
    }

    /// Builds the `0000` shape from a date and a daily sequence (synthetic data, fixtures).
    pub fn from_parts(date: NaiveDate, sequence: u32) -> Self {
        OrderNo(format!("0000{}{:06}", date.format("%y%m%d"), sequence % 1_000_000))
    }
}

fn embedded_date(yymmdd: &str) -> Option<NaiveDate> {
    let yy: i32 = yymmdd.get(0..2)?.parse().ok()?;
    let mm: u32 = yymmdd.get(2..4)?.parse().ok()?;
    let dd: u32 = yymmdd.get(4..6)?.parse().ok()?;
    NaiveDate::from_ymd_opt(2000 + yy, mm, dd)
}

impl fmt::Display for OrderNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for OrderNo {
    type Error = OrderNoError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        OrderNo::parse(&value)
    }
}

impl From<OrderNo> for String {
    fn from(value: OrderNo) -> Self {
        value.0
    }
}

impl std::str::FromStr for OrderNo {
    type Err = OrderNoError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderNo::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn both_platform_shapes_parse() {
        let table = [
            ("0000250427000004", "0000250427000004", "2025-04-27"),
            ("ZFS0000025042700004", "ZFS0000025042700004", "2025-04-27"),
            ("zfs0000025042700004", "ZFS0000025042700004", "2025-04-27"),
            ("  ００００２５０４２７０００００４ \n", "0000250427000004", "2025-04-27"),
            ("ＺＦＳ0000024022900001", "ZFS0000024022900001", "2024-02-29"),
        ];
        for (raw, canonical, date) in table {
            let no = OrderNo::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(no.as_str(), canonical);
            assert_eq!(no.date().to_string(), date);
        }
    }

    #[test]
    fn wrong_shapes_and_dates_are_refused() {
        let table = [
            ("", "empty"),
            ("000025042700004", "shape"),
            ("00002504270000041", "shape"),
            ("1000250427000004", "shape"),
            ("ZFS000025042700004", "shape"),
            ("ZFS1000025042700004", "shape"),
            ("0000251327000004", "date"),
            ("0000250229000004", "date"),
            ("ZFS0000025043100004", "date"),
            ("SF1234567890123", "shape"),
        ];
        for (raw, kind) in table {
            let err = OrderNo::parse(raw).expect_err(raw);
            let got = match err {
                OrderNoError::Empty => "empty",
                OrderNoError::Shape(_) => "shape",
                OrderNoError::ImpossibleDate(..) => "date",
            };
            assert_eq!(got, kind, "{raw}");
        }
    }

    #[test]
    fn from_parts_round_trips() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let no = OrderNo::from_parts(d, 42);
        assert_eq!(no.as_str(), "0000261130000042");
        assert_eq!(OrderNo::parse(no.as_str()).unwrap(), no);
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC*") {
            let _ = OrderNo::parse(&s);
        }

        #[test]
        fn parsed_numbers_are_canonical(s in "(0000|ZFS00000)[0-9]{11,12}") {
            if let Ok(no) = OrderNo::parse(&s) {
                prop_assert_eq!(OrderNo::parse(&no.as_str().to_lowercase()).unwrap(), no);
            }
        }
    }
}
