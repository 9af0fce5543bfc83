//! Drawing pieces the screens share: text cut and padded by display width (a CJK character takes two
//! columns), table columns that give way by priority on a narrow terminal, a centred box, the order
//! table, an order's clocks in one line, and the colours of statuses and clock states.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Row, Table};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::domain::{mask, Order, Status};
use crate::sla::board::{BoardRow, RowClock};
use crate::sla::{ClockState, Policy};

/// The space ratatui's `Table` leaves between columns.
const COLUMN_SPACING: u16 = 1;

/// A table column, and how it gives way when the terminal is narrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub header: &'static str,
    /// The width it wants: its usual content in full.
    pub want: u16,
    /// The least it is cut to (with `…`) before it is left out; `None`: never cut nor left out (an
    /// order number, a waybill: half of one tells nothing apart).
    pub min: Option<u16>,
    /// Gives way in this order: the lowest first, entirely (cut, then left out) before the next.
    pub keep: u8,
    /// Takes the room left over (beyond `want`, which is what it keeps while others give way).
    pub grow: bool,
}

impl Column {
    /// A column that is never cut.
    pub const fn whole(header: &'static str, want: u16) -> Column {
        Column { header, want, min: None, keep: u8::MAX, grow: false }
    }

    /// A column cut down to `min` columns, then left out, in the order of `keep`.
    pub const fn cut(header: &'static str, want: u16, min: u16, keep: u8) -> Column {
        Column { header, want, min: Some(min), keep, grow: false }
    }

    pub const fn growing(self) -> Column {
        Column { grow: true, ..self }
    }
}

/// The width of each column in `width` terminal columns (0: left out). The lowest `keep` gives way first:
/// it is cut as far as needed (not below its `min`), or left out when that is not enough, before the next
/// is touched; what is left over goes to the growing column.
pub fn fit_columns(columns: &[Column], width: u16) -> Vec<u16> {
    let mut widths: Vec<u16> = columns.iter().map(|c| c.want).collect();
    let total = |widths: &[u16]| -> u32 {
        let shown = widths.iter().filter(|w| **w > 0).count() as u32;
        widths.iter().map(|w| u32::from(*w)).sum::<u32>() + shown.saturating_sub(1) * u32::from(COLUMN_SPACING)
    };
    let mut order: Vec<usize> = (0..columns.len()).filter(|i| columns[*i].min.is_some()).collect();
    order.sort_by_key(|i| columns[*i].keep);
    for i in order {
        let over = total(&widths).saturating_sub(u32::from(width));
        if over == 0 {
            break;
        }
        let min = columns[i].min.unwrap_or(columns[i].want);
        let room = u32::from(widths[i].saturating_sub(min));
        if room >= over {
            widths[i] -= over as u16;
        } else {
            widths[i] = 0;
        }
    }
    let spare = u32::from(width).saturating_sub(total(&widths));
    if let Some(i) = (0..columns.len()).find(|i| columns[*i].grow && widths[*i] > 0) {
        widths[i] = widths[i].saturating_add(spare.min(u32::from(u16::MAX)) as u16);
    }
    widths
}

/// A table whose columns are fitted to `width` and to what they hold: a column is no wider than its
/// widest cell (or header), each cell cut by display width with `…`, the columns left out dropped
/// from header and rows alike.
pub struct FittedTable {
    widths: Vec<u16>,
}

impl FittedTable {
    /// Fits `columns` to `width` for the rows about to be drawn (each row's cells).
    pub fn new<'r>(columns: &[Column], width: u16, rows: impl IntoIterator<Item = &'r [String]>) -> FittedTable {
        let mut widest = vec![0usize; columns.len()];
        for row in rows {
            for (w, cell) in widest.iter_mut().zip(row) {
                *w = (*w).max(cell.width());
            }
        }
        let measured: Vec<Column> = columns
            .iter()
            .zip(widest)
            .map(|(c, widest)| {
                let content = widest.max(c.header.width()).min(usize::from(u16::MAX)) as u16;
                // A whole column is as wide as its content; another no wider than it wants.
                let want = if c.min.is_none() { content.max(c.want) } else { content.min(c.want) };
                Column { want, min: c.min.map(|m| m.min(want)), ..*c }
            })
            .collect();
        FittedTable { widths: fit_columns(&measured, width) }
    }

    pub fn row<'a>(&self, cells: Vec<String>) -> Row<'a> {
        Row::new(
            cells.into_iter().zip(&self.widths).filter(|(_, w)| **w > 0).map(|(cell, w)| short(&cell, usize::from(*w))),
        )
    }

    pub fn header<'a>(&self, columns: &[Column]) -> Row<'a> {
        self.row(columns.iter().map(|c| c.header.to_string()).collect()).style(Style::new().bold())
    }

    /// The table of `rows` (cells and style), fitted.
    pub fn table<'a>(&self, columns: &[Column], rows: Vec<(Vec<String>, Style)>) -> Table<'a> {
        let constraints: Vec<Constraint> =
            self.widths.iter().filter(|w| **w > 0).map(|w| Constraint::Length(*w)).collect();
        let rows: Vec<Row<'a>> = rows.into_iter().map(|(cells, style)| self.row(cells).style(style)).collect();
        Table::new(rows, constraints).header(self.header(columns)).column_spacing(COLUMN_SPACING)
    }

    /// Fits and draws in one: the usual way to use it.
    pub fn fit<'a>(columns: &[Column], width: u16, rows: Vec<(Vec<String>, Style)>) -> Table<'a> {
        FittedTable::new(columns, width, rows.iter().map(|(cells, _)| cells.as_slice())).table(columns, rows)
    }
}

/// At most `n` terminal columns (a CJK character takes two), with an ellipsis when cut.
pub fn short(s: &str, n: usize) -> String {
    if s.width() <= n {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > n {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// `s` padded with spaces to `n` terminal columns (format's `{:<n}` counts characters, not columns).
pub fn pad(s: &str, n: usize) -> String {
    format!("{s}{}", " ".repeat(n.saturating_sub(s.width())))
}

pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))]).flex(Flex::Center).areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))]).flex(Flex::Center).areas(row);
    cell
}

/// The columns of an order table: the order number and the waybill are never cut; the holder gives
/// way first, then the status, the company (which takes what is left over) and the key serial.
pub const ORDER_COLUMNS: [Column; 6] = [
    Column::whole("订单号", 16),
    Column::cut("状态", 8, 4, 2),
    Column::cut("单位", 12, 8, 3).growing(),
    Column::cut("持有人", 6, 4, 1),
    Column::cut("KEY 编号", 16, 8, 4),
    Column::whole("寄来运单", 15),
];

/// The order table fitted to `width`: the rows that fit, from `offset`; the selected one reversed.
pub fn order_table<'a>(orders: &[Order], selected: usize, offset: usize, height: usize, width: u16) -> Table<'a> {
    let rows = orders
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, o)| {
            let style = if i == selected { Style::new().reversed() } else { status_style(o.status) };
            let cells = vec![
                o.order_no.to_string(),
                o.status.label().to_string(),
                o.company.clone(),
                mask::name(&o.holder_name),
                o.key_serial.to_string(),
                o.inbound.waybill.clone().unwrap_or_else(|| "-".into()),
            ];
            (cells, style)
        })
        .collect();
    FittedTable::fit(&ORDER_COLUMNS, width, rows)
}

/// An order's clocks in one line: when the key must be back in the post (寄回) and the invoice issued
/// (开票), each with its state, what is left (or how late), the working time it was on hold, and 暂定 on
/// a provisional calendar.
pub fn clock_line(clocks: &[BoardRow]) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, row) in clocks.iter().enumerate() {
        spans.push(Span::raw(if i == 0 { " " } else { " · " }));
        let policy = match row.policy {
            Policy::Return => "寄回",
            Policy::Invoice => "开票",
        };
        let text = match &row.clock {
            RowClock::Evaluated(e) => {
                let due = e.schedule.due_at.format("%m-%d %H:%M");
                let provisional = if e.schedule.provisional_calendar { " 暂定" } else { "" };
                let left = match e.state {
                    ClockState::Met | ClockState::Missed => String::new(),
                    _ if e.remaining_minutes < 0 => format!(" 超{}", short_minutes(-e.remaining_minutes)),
                    // Past due outside working hours: no working time late yet, and none left.
                    ClockState::Breached => String::new(),
                    _ => format!(" 剩{}", short_minutes(e.remaining_minutes)),
                };
                // The working time on hold moved the due instant by as much (an open hold: up to now).
                let paused = match e.schedule.paused_minutes() {
                    0 => String::new(),
                    m => format!(" 挂起{}", short_minutes(m)),
                };
                format!("{policy} {due}{provisional} {}{left}{paused}", e.state.label_zh())
            }
            RowClock::Unavailable { .. } => format!("{policy} 无法计算"),
        };
        spans.push(Span::styled(text, state_style(row.state())));
    }
    if !spans.is_empty() {
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

/// Working minutes as `8时30分` (an edge or a card line has no room for `8 小时 30 分钟`).
pub fn short_minutes(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}分"),
        (h, 0) => format!("{h}时"),
        (h, m) => format!("{h}时{m}分"),
    }
}

pub fn status_style(status: Status) -> Style {
    match status {
        Status::OnHold => Style::new().fg(Color::Yellow),
        Status::Paid => Style::new(),
        Status::Received | Status::Renewing => Style::new().fg(Color::Cyan),
        Status::Renewed => Style::new().fg(Color::Green),
        _ => Style::new().fg(Color::DarkGray),
    }
}

pub fn state_style(state: Option<ClockState>) -> Style {
    match state {
        Some(ClockState::Breached) | Some(ClockState::Missed) => Style::new().fg(Color::Red).bold(),
        Some(ClockState::DueToday) => Style::new().fg(Color::LightRed),
        Some(ClockState::AtRisk) => Style::new().fg(Color::Yellow),
        Some(ClockState::OnHold) => Style::new().fg(Color::Magenta),
        Some(ClockState::OnTrack) | Some(ClockState::Met) => Style::new().fg(Color::Green),
        None => Style::new().fg(Color::DarkGray),
    }
}

/// The first row to draw so the selected one stays visible.
pub fn window_offset(selected: usize, height: usize) -> usize {
    if height == 0 {
        0
    } else {
        selected.saturating_sub(height - 1)
    }
}
