//! The documents keydesk prints: the return label for SF Express and the VAT e-invoice (or its
//! 样张 preview). Each takes a plain data struct plus settings and returns PDF bytes with the CJK
//! font embedded as a subset; nothing here talks to a printer or a database.
//!
//! Every text is checked against the font first ([`fonts::check_glyphs`]): a character the font
//! cannot draw stops the document instead of vanishing from a name or an address.

mod draw;
pub mod fonts;
pub mod invoice;
pub mod label;

use thiserror::Error;

pub use fonts::{check_glyphs, DocFont, FontError, FontSettings, MissingGlyph, MissingGlyphs};
pub use invoice::{render_invoice, InvoiceBuyer, InvoiceData, InvoiceFigures, InvoiceSettings};
pub use label::{render_label, LabelData, LabelRecipient, LabelSettings, LabelSize};

/// Why a document was not produced.
#[derive(Debug, Error)]
pub enum DocError {
    /// The font lacks characters of the document; nothing is printed.
    #[error(transparent)]
    MissingGlyphs(#[from] MissingGlyphs),
    /// A field does not fit its box even at the smallest allowed size; shorten it.
    #[error("the {field} is too long to fit on the document")]
    TextTooLong { field: &'static str },
    /// The waybill cannot be drawn as a Code 128 symbol.
    #[error("cannot draw barcode: {0}")]
    Barcode(String),
    /// The route QR data cannot be drawn.
    #[error("cannot draw QR code: {0}")]
    QrCode(String),
    /// An amount or rate is not usable (more than two decimals, rate out of range).
    #[error(transparent)]
    Tax(#[from] crate::domain::tax::TaxError),
    /// A field is missing or malformed (named in the message).
    #[error("invalid document data: {0}")]
    Invalid(String),
    /// The PDF writer failed.
    #[error("PDF writer failed: {0}")]
    Pdf(String),
}
