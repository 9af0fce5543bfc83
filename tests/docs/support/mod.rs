//! Helpers for the document and adapter tests: the shared font, the independent command-line
//! tools (poppler, zbar, qpdf), a real IPP printer, and a mock SF open platform.

pub mod ippeve;
pub mod sf_mock;
pub mod tools;

use std::sync::OnceLock;

use keydesk::docs::{DocFont, FontSettings};

/// The configured default font (Noto Sans CJK SC), loaded once for all tests.
pub fn font() -> &'static DocFont {
    static FONT: OnceLock<DocFont> = OnceLock::new();
    FONT.get_or_init(|| {
        DocFont::load(&FontSettings::default())
            .expect("Noto CJK font (Debian package fonts-noto-cjk) must be installed for document tests")
    })
}
