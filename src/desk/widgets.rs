//! Drawing pieces the screens share: text cut and padded by display width (a CJK character takes two
//! columns), a centred box, the order table, and the colours of statuses and clock states.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::widgets::Row;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::domain::{mask, Order, Status};
use crate::sla::ClockState;

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

/// The rows of an order table that fit, from `offset`; the selected one reversed.
pub fn order_rows<'a>(
    orders: &'a [Order],
    selected: usize,
    offset: usize,
    height: usize,
) -> impl Iterator<Item = Row<'a>> {
    orders.iter().enumerate().skip(offset).take(height).map(move |(i, o)| {
        let style = if i == selected { Style::new().reversed() } else { status_style(o.status) };
        Row::new(vec![
            o.order_no.to_string(),
            o.status.label().to_string(),
            o.company.clone(),
            mask::name(&o.holder_name),
            o.key_serial.to_string(),
            o.inbound.waybill.clone().unwrap_or_else(|| "-".into()),
        ])
        .style(style)
    })
}

pub fn order_widths() -> [Constraint; 6] {
    [
        Constraint::Length(16),
        Constraint::Length(8),
        Constraint::Min(12),
        Constraint::Length(6),
        Constraint::Length(11),
        Constraint::Length(15),
    ]
}

pub fn order_header() -> Row<'static> {
    Row::new(vec!["订单号", "状态", "单位", "持有人", "KEY 编号", "寄来运单"]).style(Style::new().bold())
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
