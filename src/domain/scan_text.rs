//! Normalisation of text that arrives from a barcode scanner or a Chinese keyboard: full-width forms
//! (ＳＦ１２３, the ideographic space) become ASCII, whitespace and line ends vanish, letters go upper case.

/// Maps one full-width form (U+FF01–U+FF5E, U+3000) to its ASCII twin; other characters pass through.
pub fn half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// The canonical form of an identifier as typed or scanned: half-width, no whitespace anywhere, upper case.
///
/// A Chinese input method can leave an apostrophe between pinyin syllables (`s'f`), which is removed too.
pub fn canonical_identifier(raw: &str) -> String {
    raw.chars().map(half_width).filter(|c| !c.is_whitespace() && *c != '\'').map(|c| c.to_ascii_uppercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_whitespace_are_normalised() {
        assert_eq!(canonical_identifier(" ｓｆ１２３\r\n"), "SF123");
        assert_eq!(canonical_identifier("s'f 12\u{3000}3"), "SF123");
    }
}
