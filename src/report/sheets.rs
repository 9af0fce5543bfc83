//! The report as tables: each sheet's name, headings and cells, in Simplified Chinese, the same for the
//! workbook and the CSV file. The chart of the workbook reads the 每日 sheet's columns named here.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};

use super::figures::{local_minute, PeriodReport};
use crate::sla::due::weekday_zh;

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Count(u64),
    /// Working hours, shown with one decimal.
    Hours(f64),
    Date(NaiveDate),
    /// A Beijing-time instant, shown to the minute.
    Instant(DateTime<FixedOffset>),
    Empty,
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    fn hours(h: Option<f64>) -> Cell {
        h.map_or(Cell::Empty, Cell::Hours)
    }

    fn instant(t: Option<DateTime<FixedOffset>>) -> Cell {
        t.map_or(Cell::Empty, Cell::Instant)
    }

    /// How the cell reads as text (CSV, and tests).
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Hours(h) => format!("{h:.1}"),
            Cell::Date(d) => d.to_string(),
            Cell::Instant(t) => local_minute(*t),
            Cell::Empty => String::new(),
        }
    }
}

/// One sheet: a heading row, then rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub name: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    /// Column widths in characters, one per heading.
    pub widths: Vec<u16>,
}

pub const OVERVIEW: &str = "总览";
pub const DAILY: &str = "每日";
pub const OPERATORS: &str = "操作员";
pub const LATE: &str = "逾期明细";
pub const UNMATCHED: &str = "未匹配包裹";

/// The columns of 每日 (zero-based) that the chart draws, with the date column as its categories.
pub const DAILY_DATE_COL: u16 = 0;
pub const DAILY_RECEIVED_COL: u16 = 3;
pub const DAILY_SHIPPED_COL: u16 = 5;
pub const DAILY_LATE_COL: u16 = 6;

const YES_NO: [&str; 2] = ["否", "是"];

/// The five sheets, in order.
pub fn sheets(report: &PeriodReport) -> Vec<Sheet> {
    vec![overview(report), daily(report), operators(report), late(report), unmatched(report)]
}

fn overview(report: &PeriodReport) -> Sheet {
    let o = &report.overview;
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let mut pair = |label: &str, value: Cell| rows.push(vec![Cell::text(label), value]);
    pair("报表期间", Cell::text(report.period.label()));
    pair("统计截至", Cell::Instant(report.as_of));
    pair("收件（包裹）", Cell::Count(o.received));
    pair("续签", Cell::Count(o.renewed));
    pair("发货", Cell::Count(o.shipped));
    for (name, t) in [("寄回时限", o.return_clocks), ("开票时限", o.invoice_clocks)] {
        pair(&format!("{name} 按时"), Cell::Count(t.met));
        pair(&format!("{name} 超时"), Cell::Count(t.missed));
        pair(&format!("{name} 未完成"), Cell::Count(t.open));
        pair(&format!("{name} 未完成中已超时"), Cell::Count(t.open_late));
    }
    pair("周转单数（收件→发货）", Cell::Count(o.turnaround.orders));
    pair("周转中位数（工作小时）", Cell::hours(o.turnaround.median_hours));
    pair("周转 P90（工作小时）", Cell::hours(o.turnaround.p90_hours));
    pair("无主包裹（等待中）", Cell::Count(o.unmatched));
    pair("暂定时限（该年通知未导入）", Cell::Count(report.sla.provisional));
    rows.push(vec![]);
    rows.push(["挂起原因", "次数", "仍挂起", "挂起工作小时"].map(Cell::text).to_vec());
    if o.holds.is_empty() {
        rows.push(vec![Cell::text("（本期无挂起）")]);
    }
    for h in &o.holds {
        rows.push(vec![
            Cell::text(&h.reason),
            Cell::Count(h.holds),
            Cell::Count(h.still_on_hold),
            Cell::Hours(h.hours),
        ]);
    }
    for p in &report.problems {
        rows.push(vec![Cell::text("无法计算"), Cell::text(p)]);
    }
    Sheet { name: OVERVIEW, header: vec!["项目", "数值"], rows, widths: vec![26, 24, 8, 12] }
}

fn daily(report: &PeriodReport) -> Sheet {
    let rows = report
        .days
        .iter()
        .map(|d| {
            vec![
                Cell::Date(d.day),
                Cell::text(weekday_zh(d.day.weekday())),
                Cell::text(d.working.map_or("无日历", |w| if w { "工作日" } else { "休息日" })),
                Cell::Count(u64::from(d.received)),
                Cell::Count(u64::from(d.renewed)),
                Cell::Count(u64::from(d.shipped)),
                Cell::Count(u64::from(d.late)),
                Cell::Count(d.return_clocks.met),
                Cell::Count(d.return_clocks.missed),
                Cell::Count(d.invoice_clocks.met),
                Cell::Count(d.invoice_clocks.missed),
            ]
        })
        .collect();
    Sheet {
        name: DAILY,
        header: vec![
            "日期",
            "星期",
            "日类型",
            "收件",
            "续签",
            "发货",
            "逾期",
            "寄回按时",
            "寄回超时",
            "开票按时",
            "开票超时",
        ],
        rows,
        widths: vec![12, 6, 8, 6, 6, 6, 6, 9, 9, 9, 9],
    }
}

fn operators(report: &PeriodReport) -> Sheet {
    let rows = report
        .operators
        .iter()
        .map(|o| {
            vec![
                Cell::text(&o.operator),
                Cell::Count(o.received),
                Cell::Count(o.renewed),
                Cell::Count(o.shipped),
                Cell::hours(o.median_turnaround_hours),
                Cell::Count(o.met),
                Cell::Count(o.missed),
            ]
        })
        .collect();
    Sheet {
        name: OPERATORS,
        header: vec!["操作员", "收件", "续签", "发货", "周转中位数（工作小时）", "按时", "超时"],
        rows,
        widths: vec![14, 6, 6, 6, 22, 6, 6],
    }
}

fn late(report: &PeriodReport) -> Sheet {
    let rows = report
        .late
        .iter()
        .map(|l| {
            vec![
                Cell::text(&l.order_no),
                Cell::text(l.policy.short_zh()),
                Cell::text(&l.company),
                Cell::text(&l.holder),
                Cell::text(&l.phone),
                Cell::instant(l.received_at),
                Cell::Instant(l.due_at),
                l.done_at.map_or(Cell::text("未完成"), Cell::Instant),
                Cell::Hours(l.late_hours),
                Cell::text(&l.holds),
                Cell::text(&l.operator),
                Cell::text(YES_NO[usize::from(l.provisional_calendar)]),
            ]
        })
        .collect();
    Sheet {
        name: LATE,
        header: vec![
            "订单号",
            "时限",
            "单位",
            "持有人",
            "联系电话",
            "收件时间",
            "应完成",
            "完成时间",
            "超时（工作小时）",
            "挂起记录",
            "经办人",
            "暂定",
        ],
        rows,
        widths: vec![18, 6, 28, 8, 13, 17, 17, 17, 16, 40, 10, 6],
    }
}

fn unmatched(report: &PeriodReport) -> Sheet {
    let rows = report
        .unmatched
        .iter()
        .map(|p| {
            vec![
                Cell::text(&p.waybill),
                Cell::Instant(p.scanned_at),
                Cell::text(&p.operator),
                Cell::text(&p.desk),
                Cell::hours(p.waited_hours),
                Cell::Count(p.waited_days.max(0) as u64),
            ]
        })
        .collect();
    Sheet {
        name: UNMATCHED,
        header: vec!["运单号", "扫描时间", "经办人", "工作台", "已等待（工作小时）", "已等待（天）"],
        rows,
        widths: vec![18, 17, 10, 12, 18, 12],
    }
}
