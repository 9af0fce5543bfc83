//! VAT arithmetic for the invoice: the split of a tax-inclusive total into 金额 and 税额, and the
//! amount written in Chinese capital numerals (大写) the way the national tax platform prints it.
//!
//! Pure functions over `rust_decimal::Decimal`; the caller wraps them around `Money`.
//! Rounding is 四舍五入 (half away from zero), never banker's rounding, and an amount with more than
//! two decimals is refused rather than rounded silently.

use rust_decimal::{Decimal, RoundingStrategy};
use thiserror::Error;

/// Why a tax split or a 大写 amount could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TaxError {
    /// The amount carries fractions of a 分 (e.g. `1.005`).
    #[error("amount {0} has more than two decimals")]
    TooManyDecimals(Decimal),
    /// The rate is not within `0 <= rate < 1` (e.g. `6` instead of `0.06`).
    #[error("tax rate {0} is outside 0 ≤ rate < 1 (write 6 % as 0.06)")]
    RateOutOfRange(Decimal),
}

/// A tax-inclusive total split into its tax-exclusive amount (金额) and the tax (税额).
/// `amount + tax == total` always holds exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxSplit {
    /// 金额: the price without tax, rounded half up to the 分.
    pub amount: Decimal,
    /// 税额: the total minus the amount.
    pub tax: Decimal,
}

/// Checks that `value` has at most two decimals (trailing zeros do not count: `1.500` is fine).
fn ensure_cents(value: Decimal) -> Result<(), TaxError> {
    if value.normalize().scale() > 2 {
        Err(TaxError::TooManyDecimals(value))
    } else {
        Ok(())
    }
}

/// Checks a VAT rate given as a fraction (`0.06` for 6 %).
pub fn validate_rate(rate: Decimal) -> Result<(), TaxError> {
    if (rate.is_sign_negative() && !rate.is_zero()) || rate >= Decimal::ONE {
        Err(TaxError::RateOutOfRange(rate))
    } else {
        Ok(())
    }
}

/// Splits a tax-inclusive `total` at `rate`:
/// `amount = round_half_up(total / (1 + rate), 2)`, `tax = total − amount`.
///
/// 249.00 at 0.06 gives 234.91 + 14.09. Negative totals (red-letter invoices) split symmetrically.
pub fn tax_split(total: Decimal, rate: Decimal) -> Result<TaxSplit, TaxError> {
    ensure_cents(total)?;
    validate_rate(rate)?;
    let amount = (total / (Decimal::ONE + rate)).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let amount = with_two_decimals(amount);
    let tax = with_two_decimals(total - amount);
    Ok(TaxSplit { amount, tax })
}

/// The same value written with exactly two decimals (`5` → `5.00`), as printed on documents.
pub fn with_two_decimals(value: Decimal) -> Decimal {
    let mut v = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    v.rescale(2);
    v
}

/// A rate as a percentage for the invoice face: `0.06` → `6%`, `0.015` → `1.5%`.
pub fn rate_percent(rate: Decimal) -> String {
    format!("{}%", (rate * Decimal::ONE_HUNDRED).normalize())
}

const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
const SMALL_UNITS: [&str; 4] = ["", "拾", "佰", "仟"];

/// Writes `amount` in capital numerals, platform style:
/// `249.00` → 贰佰肆拾玖圆整, `101.73` → 壹佰零壹圆柒角叁分, `0.50` → 伍角整, `100000` → 壹拾万圆整,
/// `-5` → （负数）伍圆整.
///
/// Rules: 整 after 圆 or 角, never after 分; always 壹拾; a run of interior zeros is one 零;
/// 角 = 0 with 分 ≠ 0 writes 零 (伍圆零伍分); groups of 万 and 亿 (亿亿 beyond 10¹⁶).
/// A zero before 角 after a round 圆 is not written (壹佰圆伍角整), which the rules allow.
pub fn to_chinese_uppercase(amount: Decimal) -> Result<String, TaxError> {
    ensure_cents(amount)?;
    let mut out = String::new();
    if amount.is_sign_negative() && !amount.is_zero() {
        out.push_str("（负数）");
    }
    let cents = with_two_decimals(amount.abs());
    let integer = cents.trunc();
    // `integer` is at most ~7.9e28, which fits u128; the conversion cannot fail for a Decimal.
    let yuan: u128 = integer.mantissa().unsigned_abs() / 10u128.pow(integer.scale());
    let fraction = ((cents - integer) * Decimal::ONE_HUNDRED).trunc();
    let fen_total: u128 = fraction.mantissa().unsigned_abs() / 10u128.pow(fraction.scale());
    let jiao = (fen_total / 10) as usize;
    let fen = (fen_total % 10) as usize;

    if yuan == 0 && jiao == 0 && fen == 0 {
        out.push_str("零圆整");
        return Ok(out);
    }
    if yuan > 0 {
        integer_words(yuan, &mut out);
        out.push('圆');
    }
    match (jiao, fen) {
        (0, 0) => out.push('整'),
        (j, 0) => {
            out.push(DIGITS[j]);
            out.push_str("角整");
        }
        (0, f) => {
            if yuan > 0 {
                out.push('零');
            }
            out.push(DIGITS[f]);
            out.push('分');
        }
        (j, f) => {
            out.push(DIGITS[j]);
            out.push('角');
            out.push(DIGITS[f]);
            out.push('分');
        }
    }
    Ok(out)
}

/// Writes a positive integer with 万/亿 groups, collapsing zeros between groups into one 零.
fn integer_words(n: u128, out: &mut String) {
    const YI: u128 = 100_000_000;
    const WAN: u128 = 10_000;
    if n >= YI {
        let (high, low) = (n / YI, n % YI);
        integer_words(high, out);
        out.push('亿');
        if low > 0 {
            if low < YI / 10 {
                out.push('零');
            }
            integer_words(low, out);
        }
    } else if n >= WAN {
        let (high, low) = (n / WAN, n % WAN);
        group_words(high as usize, out);
        out.push('万');
        if low > 0 {
            if low < WAN / 10 {
                out.push('零');
            }
            group_words(low as usize, out);
        }
    } else {
        group_words(n as usize, out);
    }
}

/// Writes 1..=9999 with 拾佰仟, one 零 per run of interior zeros, no trailing zeros.
fn group_words(n: usize, out: &mut String) {
    let digits = [n / 1000 % 10, n / 100 % 10, n / 10 % 10, n % 10];
    let mut started = false;
    let mut zero_pending = false;
    for (i, &d) in digits.iter().enumerate() {
        if d == 0 {
            zero_pending = started;
            continue;
        }
        if zero_pending {
            out.push('零');
            zero_pending = false;
        }
        out.push(DIGITS[d]);
        out.push_str(SMALL_UNITS[3 - i]);
        started = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal literal")
    }

    #[test]
    fn splits_the_documented_examples_half_up() {
        let cases = [
            ("249.00", "0.06", "234.91", "14.09"),
            ("200.00", "0.06", "188.68", "11.32"),
            ("249.00", "0.01", "246.53", "2.47"),
            ("249.00", "0.03", "241.75", "7.25"),
            ("0.00", "0.06", "0.00", "0.00"),
            ("0.01", "0.06", "0.01", "0.00"),
            ("-249.00", "0.06", "-234.91", "-14.09"),
            ("100", "0", "100.00", "0.00"),
            ("1.07", "0.07", "1.00", "0.07"),
            ("0.21", "0.05", "0.20", "0.01"),
            ("2.10", "0.05", "2.00", "0.10"),
        ];
        for (total, rate, amount, tax) in cases {
            let split = tax_split(d(total), d(rate)).expect(total);
            assert_eq!(split.amount.to_string(), amount, "amount of {total} at {rate}");
            assert_eq!(split.tax.to_string(), tax, "tax of {total} at {rate}");
        }
    }

    #[test]
    fn midpoint_rounds_away_from_zero_not_to_even() {
        // 0.75 / 1.2 = 0.625 exactly: half up gives 0.63, half to even would give 0.62.
        let split = tax_split(d("0.75"), d("0.2")).expect("split");
        assert_eq!(split.amount, d("0.63"));
        assert_eq!(split.tax, d("0.12"));
    }

    #[test]
    fn refuses_fractions_of_a_fen_and_bad_rates() {
        assert_eq!(tax_split(d("1.005"), d("0.06")), Err(TaxError::TooManyDecimals(d("1.005"))));
        assert_eq!(tax_split(d("1.00"), d("6")), Err(TaxError::RateOutOfRange(d("6"))));
        assert_eq!(tax_split(d("1.00"), d("-0.01")), Err(TaxError::RateOutOfRange(d("-0.01"))));
        assert_eq!(to_chinese_uppercase(d("0.001")), Err(TaxError::TooManyDecimals(d("0.001"))));
        // Trailing zeros are not extra decimals.
        assert_eq!(to_chinese_uppercase(d("1.500")).as_deref(), Ok("壹圆伍角整"));
    }

    #[test]
    fn writes_uppercase_amounts_in_platform_style() {
        let cases = [
            // DOMAIN.md §3
            ("249.00", "贰佰肆拾玖圆整"),
            ("101.73", "壹佰零壹圆柒角叁分"),
            ("0.50", "伍角整"),
            ("100000", "壹拾万圆整"),
            ("246.90", "贰佰肆拾陆圆玖角整"),
            // 角 and 分 combinations
            ("0", "零圆整"),
            ("0.00", "零圆整"),
            ("0.05", "伍分"),
            ("0.55", "伍角伍分"),
            ("5.05", "伍圆零伍分"),
            ("5.50", "伍圆伍角整"),
            ("100.50", "壹佰圆伍角整"),
            ("100.05", "壹佰圆零伍分"),
            ("14.09", "壹拾肆圆零玖分"),
            ("234.91", "贰佰叁拾肆圆玖角壹分"),
            // always 壹拾
            ("10", "壹拾圆整"),
            ("11", "壹拾壹圆整"),
            ("110000", "壹拾壹万圆整"),
            ("1000000000", "壹拾亿圆整"),
            // interior zeros
            ("1001", "壹仟零壹圆整"),
            ("1010", "壹仟零壹拾圆整"),
            ("1100", "壹仟壹佰圆整"),
            ("10001", "壹万零壹圆整"),
            ("10010", "壹万零壹拾圆整"),
            ("10100", "壹万零壹佰圆整"),
            ("11000", "壹万壹仟圆整"),
            ("100001", "壹拾万零壹圆整"),
            ("1000100", "壹佰万零壹佰圆整"),
            ("10010000", "壹仟零壹万圆整"),
            ("10001000.01", "壹仟万壹仟圆零壹分"),
            ("20300405.60", "贰仟零叁拾万零肆佰零伍圆陆角整"),
            // 亿 groups
            ("100000000", "壹亿圆整"),
            ("100000005", "壹亿零伍圆整"),
            ("100010000", "壹亿零壹万圆整"),
            ("100100000", "壹亿零壹拾万圆整"),
            ("101000000", "壹亿零壹佰万圆整"),
            ("110000000", "壹亿壹仟万圆整"),
            ("1234000000", "壹拾贰亿叁仟肆佰万圆整"),
            ("1200000000000", "壹万贰仟亿圆整"),
            ("1000000000000", "壹万亿圆整"),
            ("10000000000000000", "壹亿亿圆整"),
            ("123456789012.34", "壹仟贰佰叁拾肆亿伍仟陆佰柒拾捌万玖仟零壹拾贰圆叁角肆分"),
            // negatives (red-letter invoices)
            ("-249.00", "（负数）贰佰肆拾玖圆整"),
            ("-0.50", "（负数）伍角整"),
            ("-14.09", "（负数）壹拾肆圆零玖分"),
        ];
        for (amount, expected) in cases {
            assert_eq!(to_chinese_uppercase(d(amount)).as_deref(), Ok(expected), "{amount}");
        }
    }

    #[test]
    fn shows_rates_as_percent() {
        assert_eq!(rate_percent(d("0.06")), "6%");
        assert_eq!(rate_percent(d("0.015")), "1.5%");
        assert_eq!(rate_percent(d("0")), "0%");
    }

    /// An independent reader of 大写 amounts, to check the writer on random values.
    fn parse_uppercase(text: &str) -> Decimal {
        let (negative, body) = match text.strip_prefix("（负数）") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let mut total: u128 = 0; // completed 亿 parts
        let mut section: u128 = 0; // below 亿, including 万 multiples
        let mut group: u128 = 0; // below 万
        let mut digit: u128 = 0;
        let mut fen: u128 = 0;
        let mut last_digit_for_fraction: u128 = 0;
        for c in body.chars() {
            if let Some(v) = DIGITS.iter().position(|&x| x == c) {
                digit = v as u128;
                last_digit_for_fraction = v as u128;
                continue;
            }
            match c {
                '拾' => {
                    group += digit * 10;
                    digit = 0;
                }
                '佰' => {
                    group += digit * 100;
                    digit = 0;
                }
                '仟' => {
                    group += digit * 1000;
                    digit = 0;
                }
                '万' => {
                    section = (section + group + digit) * 10_000;
                    group = 0;
                    digit = 0;
                }
                '亿' => {
                    total = (total + section + group + digit) * 100_000_000;
                    section = 0;
                    group = 0;
                    digit = 0;
                }
                '圆' => {
                    total += section + group + digit;
                    section = 0;
                    group = 0;
                    digit = 0;
                }
                '角' => fen += last_digit_for_fraction * 10,
                '分' => fen += last_digit_for_fraction,
                '整' => {}
                other => panic!("unexpected {other} in {text}"),
            }
        }
        let value = Decimal::from_i128_with_scale((total * 100 + fen) as i128, 2);
        if negative {
            -value
        } else {
            value
        }
    }

    #[test]
    fn reader_agrees_with_table() {
        assert_eq!(parse_uppercase("壹仟贰佰叁拾肆亿伍仟陆佰柒拾捌万玖仟零壹拾贰圆叁角肆分"), d("123456789012.34"));
    }

    proptest! {
        #[test]
        fn amount_plus_tax_is_the_total(cents in -10_000_000_000i64..10_000_000_000i64,
                                        rate_bp in prop::sample::select(vec![0u32, 100, 300, 500, 600, 900, 1300, 1700]),
                                        odd_rate in 0u32..9999) {
            for rate in [Decimal::new(i64::from(rate_bp), 4), Decimal::new(i64::from(odd_rate), 4)] {
                let total = Decimal::new(cents, 2);
                let split = tax_split(total, rate).expect("valid");
                prop_assert_eq!(split.amount + split.tax, total);
                prop_assert!(split.amount.scale() == 2 && split.tax.scale() == 2);
                // the amount is the nearest cent to the exact quotient
                let exact = total / (Decimal::ONE + rate);
                prop_assert!((split.amount - exact).abs() <= d("0.005"));
            }
        }

        #[test]
        fn uppercase_reads_back_to_the_same_amount(cents in -1_000_000_000_000_000i64..1_000_000_000_000_000i64) {
            let amount = Decimal::new(cents, 2);
            let text = to_chinese_uppercase(amount).expect("two decimals");
            prop_assert_eq!(parse_uppercase(&text), amount, "{}", text);
            prop_assert!(!text.contains("零零"), "{}", text);
            prop_assert!(!text.contains("分整"), "{}", text);
            let yuan_part = text.split('圆').next().unwrap_or("");
            prop_assert!(!yuan_part.ends_with('零') || yuan_part == "零", "{}", text);
        }
    }
}
