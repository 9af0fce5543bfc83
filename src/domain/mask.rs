//! Masking of members' personal data wherever the full value is not needed: names (秦*), phones
//! (188****6015), ID numbers (1101**********1234), addresses (region only).

/// `秦晓明` → `秦**`; a single character stays as it is. The 秦* form of the platform for two characters.
pub fn name(full: &str) -> String {
    let mut chars = full.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count();
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

/// `18812346015` → `188****6015`; short or odd numbers keep at most their last four digits.
pub fn phone(full: &str) -> String {
    let mut digits: Vec<char> = full.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() == 13 && digits.starts_with(&['8', '6']) {
        digits.drain(..2);
    }
    match digits.len() {
        11.. => {
            let head: String = digits[..3].iter().collect();
            let tail: String = digits[digits.len() - 4..].iter().collect();
            format!("{head}****{tail}")
        }
        5..=10 => format!("****{}", digits[digits.len() - 4..].iter().collect::<String>()),
        _ => "****".to_string(),
    }
}

/// The last four digits of a phone number ("" when it has fewer than four).
pub fn phone_tail(full: &str) -> String {
    let digits: Vec<char> = full.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() < 4 {
        return String::new();
    }
    digits[digits.len() - 4..].iter().collect()
}

/// `110101199001011234` → `1101**********1234`.
pub fn id_number(full: &str) -> String {
    let chars: Vec<char> = full.trim().chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

/// A street address is never shown outside the desk: only the region and a mark that more exists.
pub fn address(region: &str, street: &str) -> String {
    if street.trim().is_empty() {
        region.to_string()
    } else {
        format!("{region}****")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_the_platform_style() {
        assert_eq!(name("秦经理"), "秦**");
        assert_eq!(name("秦明"), "秦*");
        assert_eq!(name(""), "");
        assert_eq!(phone("18812346015"), "188****6015");
        assert_eq!(phone("+86 188 1234 6015"), "188****6015");
        assert_eq!(phone("010-6201234"), "****1234");
        assert_eq!(phone("123"), "****");
        assert_eq!(phone_tail("188-1234-6015"), "6015");
        assert_eq!(id_number("110101199001011234"), "1101**********1234");
        assert_eq!(address("北京市市辖区丰台区", "丰台路 1 号"), "北京市市辖区丰台区****");
    }
}
