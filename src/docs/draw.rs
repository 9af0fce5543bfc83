//! A small drawing surface over printpdf shared by the label and the invoice: millimetres measured
//! from the top-left corner, text placed by its top edge, wrapping with the font's real advances,
//! filled boxes for barcode bars and QR modules, and the save step that embeds the font as a subset.

use printpdf::{
    Color, Greyscale, Line, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point,
    Pt, Rect, TextItem, TextMatrix, TextRenderingMode, WindingOrder,
};

use super::fonts::DocFont;
use super::DocError;

const PT_PER_MM: f32 = 72.0 / 25.4;

/// Horizontal placement of a text run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// Text weight: the CJK face has one weight, so bold is drawn as fill + thin stroke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// One page being drawn.
pub struct Canvas<'f> {
    font: &'f DocFont,
    doc: PdfDocument,
    font_id: printpdf::FontId,
    width: f32,
    height: f32,
    ops: Vec<Op>,
}

impl<'f> Canvas<'f> {
    /// A blank page of `width` × `height` mm.
    pub fn new(title: &str, font: &'f DocFont, width: f32, height: f32) -> Self {
        let mut doc = PdfDocument::new(title);
        let font_id = doc.add_font(font.parsed());
        Self { font, doc, font_id, width, height, ops: Vec::with_capacity(512) }
    }

    /// Width of `text` in mm at `size` pt.
    pub fn text_width(&self, text: &str, size: f32) -> f32 {
        self.font.width_em(text) * size / PT_PER_MM
    }

    fn y_pdf(&self, top_mm: f32) -> Pt {
        Mm(self.height - top_mm).into()
    }

    /// Draws one line of text whose top edge is at `top` mm, anchored at `x` per `align`.
    /// Returns the line height used (mm).
    pub fn text(&mut self, x: f32, top: f32, size: f32, weight: Weight, align: Align, text: &str) -> f32 {
        let width = self.text_width(text, size);
        let left = match align {
            Align::Left => x,
            Align::Center => x - width / 2.0,
            Align::Right => x - width,
        };
        let ascent_mm = self.font.ascent_em() * size / PT_PER_MM;
        let baseline = self.y_pdf(top + ascent_mm);
        self.ops.push(Op::StartTextSection);
        if weight == Weight::Bold {
            self.ops.push(Op::SetTextRenderingMode { mode: TextRenderingMode::FillStroke });
            self.ops.push(Op::SetOutlineThickness { pt: Pt(size * 0.04) });
        }
        self.ops.push(Op::SetFont { font: PdfFontHandle::External(self.font_id.clone()), size: Pt(size) });
        self.ops.push(Op::SetTextCursor { pos: Point { x: Mm(left).into(), y: baseline } });
        self.ops.push(Op::ShowText { items: vec![TextItem::Text(text.to_string())] });
        if weight == Weight::Bold {
            self.ops.push(Op::SetTextRenderingMode { mode: TextRenderingMode::Fill });
        }
        self.ops.push(Op::EndTextSection);
        size / PT_PER_MM * 1.2
    }

    /// Breaks `text` into lines no wider than `max_width` mm at `size` pt (breaking between any
    /// two characters, preferring a space when the line holds Latin text).
    pub fn wrap(&self, text: &str, size: f32, max_width: f32) -> Vec<String> {
        let limit_em = max_width * PT_PER_MM / size;
        let mut lines = Vec::new();
        let mut current = String::new();
        let mut current_em = 0.0f32;
        for c in text.chars() {
            let w = self.font.char_width_em(c);
            if current_em + w > limit_em && !current.is_empty() {
                // Prefer breaking at the last space when the tail is a Latin word.
                let split = current
                    .rfind(' ')
                    .filter(|&i| i > 0 && current[i + 1..].chars().all(|ch| ch.is_ascii_alphanumeric()));
                match split {
                    Some(i) if c.is_ascii_alphanumeric() => {
                        let tail = current[i + 1..].to_string();
                        current.truncate(i);
                        lines.push(std::mem::take(&mut current));
                        current_em = self.font.width_em(&tail);
                        current = tail;
                    }
                    _ => {
                        lines.push(std::mem::take(&mut current));
                        current_em = 0.0;
                    }
                }
                if c == ' ' {
                    continue;
                }
            }
            current.push(c);
            current_em += w;
        }
        if !current.is_empty() {
            lines.push(current);
        }
        lines
    }

    /// Draws `text` wrapped into at most `max_lines` lines of `max_width`, shrinking from `size`
    /// down to `min_size` if needed. Refuses (rather than cutting) when it does not fit even then.
    /// Returns the height used (mm).
    #[allow(clippy::too_many_arguments)]
    pub fn paragraph(
        &mut self,
        field: &'static str,
        x: f32,
        top: f32,
        max_width: f32,
        max_lines: usize,
        size: f32,
        min_size: f32,
        weight: Weight,
        text: &str,
    ) -> Result<f32, DocError> {
        let mut s = size;
        loop {
            let lines = self.wrap(text, s, max_width);
            if lines.len() <= max_lines {
                let mut y = top;
                for line in &lines {
                    y += self.text(x, y, s, weight, Align::Left, line);
                }
                return Ok(y - top);
            }
            if s - 0.5 < min_size {
                return Err(DocError::TextTooLong { field });
            }
            s -= 0.5;
        }
    }

    /// Largest size ≤ `size` (and ≥ `min_size`) at which `text` fits on one line of `max_width` mm.
    pub fn fit_size(&self, text: &str, size: f32, min_size: f32, max_width: f32) -> Option<f32> {
        let mut s = size;
        while s >= min_size {
            if self.text_width(text, s) <= max_width {
                return Some(s);
            }
            s -= 0.5;
        }
        None
    }

    fn rect(&mut self, x: f32, top: f32, w: f32, h: f32, mode: PaintMode) {
        self.ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Mm(x).into(),
                y: self.y_pdf(top + h),
                width: Mm(w).into(),
                height: Mm(h).into(),
                mode: Some(mode),
                winding_order: Some(WindingOrder::NonZero),
            },
        });
    }

    /// A filled box in the current colour, `x`/`top` its top-left corner, all in mm.
    pub fn fill_rect(&mut self, x: f32, top: f32, w: f32, h: f32) {
        self.rect(x, top, w, h, PaintMode::Fill);
    }

    /// An outlined box (line width in mm).
    pub fn stroke_rect(&mut self, x: f32, top: f32, w: f32, h: f32, line: f32) {
        self.ops.push(Op::SetOutlineThickness { pt: Mm(line).into() });
        self.rect(x, top, w, h, PaintMode::Stroke);
    }

    /// A straight line between two points (mm, top-left origin).
    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width: f32) {
        self.ops.push(Op::SetOutlineThickness { pt: Mm(width).into() });
        let p = |x: f32, y: f32| LinePoint { p: Point { x: Mm(x).into(), y: self.y_pdf(y) }, bezier: false };
        let points = vec![p(x1, y1), p(x2, y2)];
        self.ops.push(Op::DrawLine { line: Line { points, is_closed: false } });
    }

    /// Sets the fill and stroke grey level (0 = black, 1 = white) for what follows.
    pub fn grey(&mut self, level: f32) {
        let col = Color::Greyscale(Greyscale { percent: level, icc_profile: None });
        self.ops.push(Op::SetFillColor { col: col.clone() });
        self.ops.push(Op::SetOutlineColor { col });
    }

    /// Draws text rotated by `degrees` around its start point (x, y from top-left, in mm).
    pub fn rotated_text(&mut self, x: f32, y: f32, size: f32, degrees: f32, text: &str) {
        self.ops.push(Op::StartTextSection);
        self.ops.push(Op::SetFont { font: PdfFontHandle::External(self.font_id.clone()), size: Pt(size) });
        self.ops.push(Op::SetTextMatrix { matrix: TextMatrix::TranslateRotate(Mm(x).into(), self.y_pdf(y), degrees) });
        self.ops.push(Op::ShowText { items: vec![TextItem::Text(text.to_string())] });
        self.ops.push(Op::EndTextSection);
    }

    /// Draws a Code 128 symbol from its modules (1 = bar) with `module` mm per module, the first
    /// module at `x`. Returns the symbol width (mm).
    pub fn barcode(&mut self, modules: &[u8], x: f32, top: f32, module: f32, height: f32) -> f32 {
        let mut i = 0;
        while i < modules.len() {
            if modules[i] == 1 {
                let start = i;
                while i < modules.len() && modules[i] == 1 {
                    i += 1;
                }
                let run = (i - start) as f32;
                self.fill_rect(x + start as f32 * module, top, run * module, height);
            } else {
                i += 1;
            }
        }
        modules.len() as f32 * module
    }

    /// Draws a QR code of `size` mm square with its top-left corner at (`x`, `top`).
    pub fn qr(&mut self, data: &str, x: f32, top: f32, size: f32) -> Result<(), DocError> {
        let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)
            .map_err(|e| DocError::QrCode(e.to_string()))?;
        let n = code.width();
        let module = size / n as f32;
        let colors = code.to_colors();
        for row in 0..n {
            let mut col = 0;
            while col < n {
                if colors[row * n + col] == qrcode::Color::Dark {
                    let start = col;
                    while col < n && colors[row * n + col] == qrcode::Color::Dark {
                        col += 1;
                    }
                    // Slight overlap so renderers leave no hairline gaps between modules.
                    self.fill_rect(
                        x + start as f32 * module,
                        top + row as f32 * module,
                        (col - start) as f32 * module,
                        module * 1.02,
                    );
                } else {
                    col += 1;
                }
            }
        }
        Ok(())
    }

    /// Finishes the page and writes the PDF with the font embedded as a subset.
    pub fn finish(mut self) -> Result<Vec<u8>, DocError> {
        let page = PdfPage::new(Mm(self.width), Mm(self.height), std::mem::take(&mut self.ops));
        let options = PdfSaveOptions { subset_fonts: true, ..PdfSaveOptions::default() };
        let mut warnings = Vec::new();
        let bytes = self.doc.with_pages(vec![page]).save(&options, &mut warnings);
        if bytes.is_empty() {
            return Err(DocError::Pdf(format!("printpdf wrote nothing: {warnings:?}")));
        }
        Ok(bytes)
    }
}
