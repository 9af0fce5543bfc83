//! `Money`: an amount in CNY with at most two decimals. More decimals is an error, never a silent
//! rounding; the database keeps the exact value as integer fen (分).

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Money(Decimal);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("金额 {0:?} 不是数字")]
    NotANumber(String),
    #[error("金额 {0} 超过两位小数（不会自动舍入）")]
    TooManyDecimals(String),
    #[error("金额 {0} 超出范围")]
    OutOfRange(String),
}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub fn new(value: Decimal) -> Result<Self, MoneyError> {
        let normalized = value.normalize();
        if normalized.scale() > 2 {
            return Err(MoneyError::TooManyDecimals(value.to_string()));
        }
        let mut v = normalized;
        v.rescale(2);
        Ok(Money(v))
    }

    pub fn parse(raw: &str) -> Result<Self, MoneyError> {
        let s = raw.trim().trim_start_matches(['¥', '￥']);
        let d: Decimal = s.parse().map_err(|_| MoneyError::NotANumber(raw.to_string()))?;
        Money::new(d)
    }

    pub fn from_fen(fen: i64) -> Self {
        Money(Decimal::new(fen, 2))
    }

    /// The exact amount in fen (分), for storage.
    pub fn fen(self) -> Result<i64, MoneyError> {
        let scaled = self.0 * Decimal::ONE_HUNDRED;
        i64::try_from(scaled).map_err(|_| MoneyError::OutOfRange(self.0.to_string()))
    }

    pub fn decimal(self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl TryFrom<String> for Money {
    type Error = MoneyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Money::parse(&value)
    }
}

impl From<Money> for String {
    fn from(value: Money) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn two_decimals_at_most() {
        assert_eq!(Money::parse("249.00").unwrap().to_string(), "249.00");
        assert_eq!(Money::parse("249").unwrap().to_string(), "249.00");
        assert_eq!(Money::parse("¥0.5").unwrap().to_string(), "0.50");
        assert_eq!(Money::parse("249.000").unwrap().to_string(), "249.00");
        assert!(matches!(Money::parse("249.001"), Err(MoneyError::TooManyDecimals(_))));
        assert!(matches!(Money::parse("abc"), Err(MoneyError::NotANumber(_))));
        assert_eq!(Money::parse("-10.10").unwrap().fen().unwrap(), -1010);
    }

    #[test]
    fn fen_round_trips() {
        assert_eq!(Money::from_fen(24900).to_string(), "249.00");
        assert_eq!(Money::parse("249.00").unwrap().fen().unwrap(), 24900);
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC*") {
            let _ = Money::parse(&s);
        }

        #[test]
        fn fen_is_exact(fen in -10_000_000_000i64..10_000_000_000) {
            let m = Money::from_fen(fen);
            prop_assert_eq!(m.fen().unwrap(), fen);
            prop_assert_eq!(Money::parse(&m.to_string()).unwrap(), m);
        }
    }
}
