//! The board (看板): counts per clock state, the two-week chart (received / shipped / late), and
//! every open clock by urgency. Only the rows that fit are built, so ten thousand open orders cost
//! the same frame as fifty.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders, Paragraph};
use ratatui::Frame;

use super::ListState;
use crate::desk::widgets::{short, short_minutes, state_style, window_offset, Column, FittedTable};
use crate::domain::Status;
use crate::sla::board::{Board, RowClock};
use crate::sla::due::{format_instant_zh, format_minutes_zh};
use crate::sla::trend::Trend;
use crate::sla::{ClockState, Policy};

/// The chart takes seven rows when the board has room for it (at 80×24 it does).
const CHART_ROWS: u16 = 7;

/// The board's columns: the order number and the due instant are never cut; the time on hold gives
/// way first (at 80×24 it does), then the order's status, what is left and the policy.
const BOARD_COLUMNS: [Column; 7] = [
    Column::whole("订单号", 16),
    Column::cut("时限", 4, 4, 5),
    Column::cut("状态", 8, 6, 6),
    Column::whole("到期", 24),
    Column::cut("剩余工作时间", 15, 8, 4),
    Column::cut("已挂起", 8, 6, 1),
    Column::cut("订单", 8, 4, 2).growing(),
];

#[derive(Debug, Clone, Default)]
pub struct BoardScreen {
    pub board: Option<Board>,
    pub list: ListState,
    pub trend: Option<Trend>,
    /// Inbound parcels SF reported that the desk has not scanned.
    pub arrivals: Option<crate::ops::routes::Arrivals>,
}

impl BoardScreen {
    pub fn loaded(&mut self, board: Board) {
        let len = board.rows.len();
        self.board = Some(board);
        self.list.move_by(0, len);
    }

    /// The order number of the picked row.
    pub fn picked(&self) -> Option<String> {
        self.board.as_ref().and_then(|b| b.rows.get(self.list.selected)).map(|r| r.order_no.clone())
    }

    pub fn move_by(&mut self, delta: isize) {
        let len = self.board.as_ref().map_or(0, |b| b.rows.len());
        self.list.move_by(delta, len)
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let notice = self.board.as_ref().and_then(|b| b.calendar_notice.as_deref());
        let chart_rows = if area.height >= CHART_ROWS + 8 { CHART_ROWS } else { 0 };
        let arrivals = self.arrivals.as_ref().and_then(arrivals_line);
        let [notice_row, counts, arrivals_row, chart, list] = Layout::vertical([
            Constraint::Length(u16::from(notice.is_some())),
            Constraint::Length(1),
            Constraint::Length(u16::from(arrivals.is_some())),
            Constraint::Length(chart_rows),
            Constraint::Min(3),
        ])
        .areas(area);
        if let Some(notice) = notice {
            let line = Line::from(format!(" 注意：{notice}")).style(Style::new().fg(Color::Black).bg(Color::Yellow));
            frame.render_widget(Paragraph::new(line), notice_row);
        }
        if let Some(line) = arrivals {
            frame.render_widget(Paragraph::new(line), arrivals_row);
        }
        if chart_rows > 0 {
            self.draw_trend(frame, chart);
        }
        let Some(board) = &self.board else {
            frame.render_widget(Paragraph::new(" 正在计算看板…"), counts);
            return;
        };
        let c = &board.counts;
        let mut spans = vec![Span::raw(" ")];
        for (state, n) in [
            (ClockState::Breached, c.breached),
            (ClockState::DueToday, c.due_today),
            (ClockState::AtRisk, c.at_risk),
            (ClockState::OnTrack, c.on_track),
            (ClockState::OnHold, c.on_hold),
        ] {
            spans.push(Span::styled(format!("{} {}  ", state.label_zh(), n), state_style(Some(state))));
        }
        if c.unavailable > 0 {
            spans.push(Span::styled(format!("无法计算 {}", c.unavailable), state_style(None)));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), counts);
        let block = Block::new().borders(Borders::TOP).title(format!(
            " 待办时限 {} · {} ",
            board.rows.len(),
            format_instant_zh(board.as_of)
        ));
        let height = block.inner(list).height.saturating_sub(1) as usize;
        let offset = window_offset(self.list.selected, height);
        let rows = board
            .rows
            .iter()
            .enumerate()
            .skip(offset)
            .take(height)
            .map(|(i, r)| {
                let (state, due, left, paused) = match &r.clock {
                    RowClock::Evaluated(e) => (
                        e.state.label_zh().to_string(),
                        // 暂定: the year has no notice yet; the deadline can still move when it comes (the
                        // mark takes the weekday's place, so the column keeps its width at 80×24).
                        if e.schedule.provisional_calendar {
                            format!("{} 暂定", e.schedule.due_at.format("%Y-%m-%d %H:%M"))
                        } else {
                            format_instant_zh(e.schedule.due_at)
                        },
                        format_minutes_zh(e.remaining_minutes),
                        match e.schedule.paused_minutes() {
                            0 => String::new(),
                            m => short_minutes(m),
                        },
                    ),
                    RowClock::Unavailable { reason } => {
                        ("无法计算".to_string(), short(reason, 24), String::new(), String::new())
                    }
                };
                let status = Status::from_code(&r.status_code).map(|s| s.label()).unwrap_or("");
                let style = if i == self.list.selected { Style::new().reversed() } else { state_style(r.state()) };
                let policy = match r.policy {
                    Policy::Return => "寄回",
                    Policy::Invoice => "开票",
                };
                // A deadline a calendar change moved says so where the order's status would be (the
                // order's timeline has from what to what).
                let last = if r.moved.is_some() { "时限已调" } else { status };
                (vec![r.order_no.clone(), policy.to_string(), state, due, left, paused, last.to_string()], style)
            })
            .collect();
        let width = block.inner(list).width;
        frame.render_widget(FittedTable::fit(&BOARD_COLUMNS, width, rows).block(block), list);
    }

    /// Received, shipped and gone late per day for the last two weeks: three bars a day.
    fn draw_trend(&self, frame: &mut Frame, area: Rect) {
        let Some(trend) = &self.trend else {
            frame.render_widget(Paragraph::new(" 正在统计近两周…").block(Block::new().borders(Borders::TOP)), area);
            return;
        };
        let (r, s, l) = trend.totals();
        let today = trend.days.last().copied();
        let title = Line::from(vec![
            Span::raw(" 近两周 "),
            Span::styled("■收件 ", Style::new().fg(Color::Cyan)),
            Span::styled("■发货 ", Style::new().fg(Color::Green)),
            Span::styled("■逾期 ", Style::new().fg(Color::Red)),
            Span::raw(format!(
                " 合计 {r}/{s}/{l}  今日 {}/{}/{} ",
                today.map_or(0, |d| d.received),
                today.map_or(0, |d| d.shipped),
                today.map_or(0, |d| d.late)
            )),
        ]);
        let groups: Vec<BarGroup> = trend
            .days
            .iter()
            .map(|d| {
                let bar = |v: u32, color: Color| {
                    Bar::new(u64::from(v)).style(Style::new().fg(color)).text_value(String::new())
                };
                BarGroup::new([bar(d.received, Color::Cyan), bar(d.shipped, Color::Green), bar(d.late, Color::Red)])
                    .label(Line::from(d.day.format("%d").to_string()).centered())
            })
            .collect();
        let chart = BarChart::grouped(groups)
            .block(Block::new().borders(Borders::TOP).title(title))
            .bar_width(1)
            .bar_gap(0)
            .group_gap(2)
            .max(u64::from(trend.peak().max(1)));
        frame.render_widget(chart, area);
    }
}

/// 到件预计 (what SF has out for delivery or delivered today, not scanned yet) and 疑似遗失 (delivered
/// days ago, never scanned), on one line; nothing when SF reported neither.
fn arrivals_line(a: &crate::ops::routes::Arrivals) -> Option<Line<'static>> {
    if a.expected.is_empty() && a.lost.is_empty() {
        return None;
    }
    let list =
        |items: &[crate::ops::routes::Arrival]| items.iter().map(|i| i.waybill.as_str()).collect::<Vec<_>>().join(" ");
    let mut spans = vec![Span::raw(" ")];
    if !a.expected.is_empty() {
        spans.push(Span::raw(format!("到件预计 {}：{}  ", a.expected.len(), list(&a.expected))));
    }
    if !a.lost.is_empty() {
        let since = a.lost.iter().map(|i| i.at).min().map(|t| t.format("%m-%d").to_string()).unwrap_or_default();
        spans.push(Span::styled(
            format!("疑似遗失 {}（顺丰 {since} 起已签收，未扫描）：{}", a.lost.len(), list(&a.lost)),
            Style::new().fg(Color::Red),
        ));
    }
    Some(Line::from(spans))
}
