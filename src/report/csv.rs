//! The report as one CSV file (RFC 4180, UTF-8 with a byte-order mark so spreadsheet programs read
//! the Chinese text): the five sheets one after another, each as a line with its name, its heading
//! row and its rows, with an empty line between sheets. A CSV file holds no chart.

use super::figures::PeriodReport;
use super::sheets::{sheets, Cell};

/// The file's bytes.
pub fn render(report: &PeriodReport) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    for (i, sheet) in sheets(report).iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        line(&mut out, [sheet.name.to_string()]);
        line(&mut out, sheet.header.iter().map(|h| h.to_string()));
        for row in &sheet.rows {
            line(&mut out, row.iter().map(Cell::display));
        }
    }
    out.into_bytes()
}

fn line(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&quoted(&field));
    }
    out.push_str("\r\n");
}

/// A field, quoted when it holds a comma, a quote, a line break or leading or trailing space.
fn quoted(field: &str) -> String {
    let needs = field.contains([',', '"', '\r', '\n']) || field.trim() != field;
    if needs {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(quoted("寄回"), "寄回");
        assert_eq!(quoted("a,b"), "\"a,b\"");
        assert_eq!(quoted("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quoted(" x"), "\" x\"");
        let mut out = String::new();
        line(&mut out, ["订单号".to_string(), "".to_string(), "1.5".to_string()]);
        assert_eq!(out, "订单号,,1.5\r\n");
    }
}
