//! The CJK font that every keydesk document is drawn with, and the glyph check that refuses to print
//! a text the font cannot show.
//!
//! A PDF writer drops a character that has no glyph without a word (王喆 comes out as 王), and on a
//! courier label or an invoice that is a wrong name. So every string goes through [`check_glyphs`]
//! before layout, and a missing character stops the document with its exact name and code point.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The system font of Debian's `fonts-noto-cjk` package.
pub const DEFAULT_FONT_PATH: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
/// Face 2 of that collection is Noto Sans CJK SC (Simplified Chinese).
pub const DEFAULT_FACE_INDEX: usize = 2;

/// Which font file and face to use (`[font]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FontSettings {
    /// A TrueType/OpenType font or collection with CJK coverage.
    pub path: PathBuf,
    /// The face inside a collection (`.ttc`); 0 for a single-face file.
    pub face_index: usize,
}

impl Default for FontSettings {
    fn default() -> Self {
        Self { path: PathBuf::from(DEFAULT_FONT_PATH), face_index: DEFAULT_FACE_INDEX }
    }
}

/// Why a font could not be loaded.
#[derive(Debug, Error)]
pub enum FontError {
    /// The file is missing or unreadable.
    #[error("cannot read font file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a font, or the face index does not exist in the collection.
    #[error("{path} face {face_index} is not a usable font face{detail}")]
    Parse { path: PathBuf, face_index: usize, detail: String },
}

/// A parsed font face, ready for layout (advance widths) and for embedding as a subset.
/// Loading the Noto CJK collection takes tens of milliseconds: load once and share.
#[derive(Clone)]
pub struct DocFont {
    parsed: printpdf::ParsedFont,
    name: String,
    units_per_em: f32,
    ascent: f32,
}

impl fmt::Debug for DocFont {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocFont").field("name", &self.name).finish_non_exhaustive()
    }
}

impl DocFont {
    /// Loads the configured font file and face.
    pub fn load(settings: &FontSettings) -> Result<Self, FontError> {
        let bytes =
            std::fs::read(&settings.path).map_err(|source| FontError::Read { path: settings.path.clone(), source })?;
        Self::from_bytes(&bytes, settings.face_index, &settings.path)
    }

    /// Parses a font already in memory; `origin` only names it in messages.
    pub fn from_bytes(bytes: &[u8], face_index: usize, origin: &Path) -> Result<Self, FontError> {
        let mut warnings = Vec::new();
        let parsed = printpdf::ParsedFont::from_bytes(bytes, face_index, &mut warnings)
            .filter(|font| font.lookup_glyph_index(u32::from('A')).is_some())
            .ok_or_else(|| FontError::Parse {
                path: origin.to_path_buf(),
                face_index,
                detail: if warnings.is_empty() {
                    String::new()
                } else {
                    format!(": {}", warnings.iter().map(|w| w.message.as_str()).collect::<Vec<_>>().join("; "))
                },
            })?;
        let units_per_em = f32::from(parsed.pdf_font_metrics.units_per_em.max(1));
        let ascent = parsed.font_metrics.ascent / units_per_em;
        let name = format!(
            "{} face {}",
            origin.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            face_index
        );
        Ok(Self { parsed, name, units_per_em, ascent })
    }

    /// The font as printpdf wants it, for `PdfDocument::add_font`.
    pub fn parsed(&self) -> &printpdf::ParsedFont {
        &self.parsed
    }

    /// File name and face, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the font has a real glyph (not .notdef) for `c`.
    pub fn has_glyph(&self, c: char) -> bool {
        matches!(self.parsed.lookup_glyph_index(u32::from(c)), Some(g) if g != 0)
    }

    /// The advance of `text` in em (multiply by the font size). Characters without a glyph count
    /// as 1 em; they never reach a page because of [`check_glyphs`].
    pub fn width_em(&self, text: &str) -> f32 {
        text.chars().map(|c| self.char_width_em(c)).sum()
    }

    /// The advance of one character in em.
    pub fn char_width_em(&self, c: char) -> f32 {
        match self.parsed.lookup_glyph_index(u32::from(c)) {
            Some(g) if g != 0 => f32::from(self.parsed.get_horizontal_advance(g)) / self.units_per_em,
            _ => 1.0,
        }
    }

    /// Ascender height in em, to place a line by its top.
    pub fn ascent_em(&self) -> f32 {
        self.ascent
    }
}

/// One character the font cannot draw, and the text it appeared in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingGlyph {
    pub character: char,
    pub text: String,
}

/// The characters of a document that the font cannot draw; the document is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct MissingGlyphs {
    pub font: String,
    pub missing: Vec<MissingGlyph>,
}

impl MissingGlyphs {
    /// The distinct missing characters, in order of appearance.
    pub fn characters(&self) -> Vec<char> {
        let mut out: Vec<char> = Vec::new();
        for m in &self.missing {
            if !out.contains(&m.character) {
                out.push(m.character);
            }
        }
        out
    }
}

impl fmt::Display for MissingGlyphs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refusing to print: the font {} has no glyph for ", self.font)?;
        for (i, m) in self.missing.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "'{}' (U+{:04X}) in \"{}\"", m.character, u32::from(m.character), m.text)?;
        }
        f.write_str("; correct the text or configure a font that has it")
    }
}

/// Checks that every character of every text has a glyph in `font`.
/// Line breaks are layout, not characters, and are not checked.
pub fn check_glyphs<'a, I>(font: &DocFont, texts: I) -> Result<(), MissingGlyphs>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut missing: Vec<MissingGlyph> = Vec::new();
    for text in texts {
        for c in text.chars() {
            if c == '\n' || c == '\r' || font.has_glyph(c) {
                continue;
            }
            if !missing.iter().any(|m| m.character == c && m.text == text) {
                missing.push(MissingGlyph { character: c, text: text.to_string() });
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(MissingGlyphs { font: font.name().to_string(), missing })
    }
}
