//! The report as an Excel workbook (`rust_xlsxwriter`): the five sheets of `sheets`, with dates and
//! instants as real Excel dates in Beijing time, counts and hours as numbers, bold frozen headings, and
//! a native column chart on 总览 of received / shipped / late per day, drawn from the 每日 columns (so
//! it follows any edit of them), not a picture.

use rust_xlsxwriter::{Chart, ChartType, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::figures::PeriodReport;
use super::sheets::{self, Cell, Sheet};

/// Beijing is eight hours ahead of UTC all year: Excel's dates carry no zone, so they are written as
/// the Beijing wall-clock time.
const SHANGHAI_SECONDS: i64 = 8 * 3600;

struct Formats {
    header: Format,
    date: Format,
    minute: Format,
    hours: Format,
}

/// The workbook's bytes.
pub fn render(report: &PeriodReport) -> Result<Vec<u8>, XlsxError> {
    let formats = Formats {
        header: Format::new().set_bold(),
        date: Format::new().set_num_format("yyyy-mm-dd"),
        minute: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
        hours: Format::new().set_num_format("0.0"),
    };
    let mut workbook = Workbook::new();
    let all = sheets::sheets(report);
    for sheet in &all {
        let worksheet = workbook.add_worksheet();
        write_sheet(worksheet, sheet, &formats)?;
        if sheet.name == sheets::OVERVIEW {
            // Below the overview's tables, within the printed page's width.
            let days = all.iter().find(|s| s.name == sheets::DAILY).map_or(0, |s| s.rows.len());
            worksheet.insert_chart(sheet.rows.len() as u32 + 3, 0, &daily_chart(days))?;
        }
    }
    workbook.save_to_buffer()
}

fn write_sheet(worksheet: &mut Worksheet, sheet: &Sheet, formats: &Formats) -> Result<(), XlsxError> {
    worksheet.set_name(sheet.name)?;
    for (col, heading) in sheet.header.iter().enumerate() {
        worksheet.write_with_format(0, col as u16, *heading, &formats.header)?;
    }
    for (col, width) in sheet.widths.iter().enumerate() {
        worksheet.set_column_width(col as u16, *width)?;
    }
    worksheet.set_freeze_panes(1, 0)?;
    // Printed (or converted to PDF) a sheet is one page wide; the wide ones lie on their side. A4.
    worksheet.set_paper_size(9).set_print_fit_to_pages(1, 0).set_header(format!("&L{}&R&P / &N", sheet.name));
    if sheet.widths.iter().map(|w| u32::from(*w)).sum::<u32>() > 90 {
        worksheet.set_landscape();
    }
    for (i, row) in sheet.rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (col, cell) in row.iter().enumerate() {
            let c = col as u16;
            match cell {
                Cell::Text(text) => worksheet.write(r, c, text.as_str())?,
                Cell::Count(n) => worksheet.write(r, c, *n as f64)?,
                Cell::Hours(h) => worksheet.write_with_format(r, c, *h, &formats.hours)?,
                Cell::Date(day) => {
                    let date = ExcelDateTime::from_ymd(
                        u16::try_from(chrono::Datelike::year(day)).unwrap_or(1900),
                        chrono::Datelike::month(day) as u8,
                        chrono::Datelike::day(day) as u8,
                    )?;
                    worksheet.write_datetime_with_format(r, c, &date, &formats.date)?
                }
                Cell::Instant(t) => {
                    let local = ExcelDateTime::from_timestamp(t.timestamp() + SHANGHAI_SECONDS)?;
                    worksheet.write_datetime_with_format(r, c, &local, &formats.minute)?
                }
                Cell::Empty => worksheet,
            };
        }
    }
    Ok(())
}

/// Received, shipped and late per day: three series over the 每日 rows `1..=days` (one empty row when
/// the period has none), each named by its column heading; the days as text labels (`11-24`), so the
/// quiet weekends the sheet leaves out leave no gaps.
fn daily_chart(days: usize) -> Chart {
    let last = days.max(1) as u32;
    let mut chart = Chart::new(ChartType::Column);
    chart.title().set_name("每日收件、发货与逾期");
    for col in [sheets::DAILY_RECEIVED_COL, sheets::DAILY_SHIPPED_COL, sheets::DAILY_LATE_COL] {
        chart
            .add_series()
            .set_name((sheets::DAILY, 0, col))
            .set_categories((sheets::DAILY, 1, sheets::DAILY_DATE_COL, last, sheets::DAILY_DATE_COL))
            .set_values((sheets::DAILY, 1, col, last, col));
    }
    chart.x_axis().set_name("日期").set_text_axis(true).set_num_format("mm-dd");
    chart.y_axis().set_name("件数");
    chart.set_width(560).set_height(300);
    chart
}
