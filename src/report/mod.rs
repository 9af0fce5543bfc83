//! The manager's report (issue 15): the two-working-day promise over a period, per day and per operator,
//! with every missed clock and the unmatched parcels, as an Excel workbook (or CSV) that can be passed
//! around an office. `figures` computes it from recorded facts (pure); `sheets` lays it out as tables
//! with their Chinese headings (pure); `workbook` and `csv` write those tables as files — the workbook
//! with a native chart of received / shipped / late per day. The use case that gathers the facts is
//! `ops::report`; personal data reaches this module already masked.

pub mod csv;
pub mod figures;
pub mod settings;
pub mod sheets;
pub mod workbook;

pub use figures::{build, OrderFacts, ParcelFacts, Period, PeriodReport, ReportBuilder};
pub use settings::{ReportSettings, WeeklySchedule};

/// The file forms a report is written in, chosen by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileForm {
    Xlsx,
    Csv,
}

impl FileForm {
    /// From a path's extension (`.xlsx` or `.csv`, any case).
    pub fn of_path(path: &std::path::Path) -> Result<FileForm, String> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("xlsx") => Ok(FileForm::Xlsx),
            Some("csv") => Ok(FileForm::Csv),
            _ => Err(format!("{}：报表文件须以 .xlsx 或 .csv 结尾", path.display())),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileForm::Xlsx => "xlsx",
            FileForm::Csv => "csv",
        }
    }

    /// The report's bytes in this form.
    pub fn render(self, report: &PeriodReport) -> Result<Vec<u8>, String> {
        match self {
            FileForm::Xlsx => workbook::render(report).map_err(|e| format!("无法生成工作簿：{e}")),
            FileForm::Csv => Ok(csv::render(report)),
        }
    }
}
