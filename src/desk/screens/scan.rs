//! The scan screen (收件), the desk's home: the always-ready scan field, the card of the last scan
//! with the orders it matched (one picked, its clocks below; Enter on an empty field opens it), and the
//! recent scans.

use std::collections::{BTreeMap, VecDeque};

use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use super::ListState;
use crate::desk::app::Level;
use crate::desk::widgets::{clock_line, short, Column, FittedTable};
use crate::ops::intake::{local, IntakeOutcome, IntakeResult, OrderOutcome};
use crate::sla::board::BoardRow;

/// How many scans the recent list keeps.
const HISTORY: usize = 20;

#[derive(Debug, Clone, Default)]
pub struct ScanScreen {
    pub input: String,
    pub last_intake: Option<IntakeOutcome>,
    pub pick: ListState,
    pub history: VecDeque<IntakeOutcome>,
    /// The clocks of the last scan's orders, by order number (they arrive after the card).
    pub clocks: BTreeMap<String, Vec<BoardRow>>,
}

/// The card's columns: the order number is never cut; the certificate's expiry gives way first, then
/// payment and documents, the holder, the company (which takes what is left over), the key serial and
/// the result.
const CARD_COLUMNS: [Column; 7] = [
    Column::whole("订单号", 16),
    Column::cut("结果", 11, 6, 6),
    Column::cut("单位", 12, 8, 4).growing(),
    Column::cut("持有人", 6, 4, 3),
    Column::cut("KEY 编号", 16, 8, 5),
    Column::cut("证书到期", 10, 10, 1),
    Column::cut("支付/资料", 10, 4, 2),
];

impl ScanScreen {
    /// A scan's outcome arrived: it becomes the card and heads the recent list. Returns how the
    /// message line should show it.
    pub fn record(&mut self, outcome: IntakeOutcome) -> Level {
        let level = match outcome.result {
            IntakeResult::Matched | IntakeResult::AlreadyReceived => Level::Info,
            IntakeResult::Unpaid | IntakeResult::Closed | IntakeResult::Unknown => Level::Warn,
            IntakeResult::NotSf | IntakeResult::Invalid => Level::Error,
        };
        self.pick = ListState::default();
        self.clocks.clear();
        self.history.push_front(outcome.clone());
        self.history.truncate(HISTORY);
        self.last_intake = Some(outcome);
        level
    }

    /// The order number of the picked match of the last scan.
    pub fn picked(&self) -> Option<String> {
        self.last_intake.as_ref().and_then(|o| o.orders.get(self.pick.selected)).map(|o| o.order_no.clone())
    }

    pub fn move_by(&mut self, delta: isize) {
        let len = self.last_intake.as_ref().map_or(0, |o| o.orders.len());
        self.pick.move_by(delta, len)
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let [input, card, history] =
            Layout::vertical([Constraint::Length(3), Constraint::Min(6), Constraint::Length(7)]).areas(area);
        let field = Paragraph::new(Line::from(vec![
            Span::raw(" "),
            Span::raw(self.input.as_str()),
            Span::styled("▏", Style::new().fg(Color::Cyan)),
        ]))
        .block(
            Block::bordered()
                .title(" 扫描或输入运单号（顺丰），Enter 确认 ")
                .border_style(Style::new().fg(Color::Cyan)),
        );
        frame.render_widget(field, input);
        match &self.last_intake {
            None => frame.render_widget(
                Paragraph::new(" 等待扫描。扫码枪扫描包裹上的顺丰运单即可收件；一个包裹多个 KEY 会全部收件。")
                    .wrap(Wrap { trim: true })
                    .block(Block::bordered().title(" 收件结果 ")),
                card,
            ),
            Some(outcome) => self.draw_card(outcome, frame, card),
        }
        let lines: Vec<Line> = self
            .history
            .iter()
            .skip(1)
            .take(5)
            .map(|h| Line::from(format!(" {}  {}", h.waybill.as_deref().unwrap_or("-"), short(&h.message, 60))))
            .collect();
        frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(" 最近扫描 ")), history);
    }

    fn draw_card(&self, outcome: &IntakeOutcome, frame: &mut Frame, card: Rect) {
        let (label, color) = match outcome.result {
            IntakeResult::Matched => ("已收件", Color::Green),
            IntakeResult::AlreadyReceived => ("此前已收件", Color::Cyan),
            IntakeResult::Unpaid => ("未支付 · 已挂起", Color::Yellow),
            IntakeResult::Closed => ("订单已关闭 · 需寄回", Color::Yellow),
            IntakeResult::Unknown => ("无主包裹", Color::Yellow),
            IntakeResult::NotSf => ("不是顺丰", Color::Red),
            IntakeResult::Invalid => ("无法识别", Color::Red),
        };
        let [head, table, clocks] =
            Layout::vertical([Constraint::Length(2), Constraint::Min(2), Constraint::Length(1)])
                .areas(card.inner(Margin::new(1, 1)));
        frame.render_widget(
            Block::bordered().title(format!(" 收件结果 · {label} ")).border_style(Style::new().fg(color)),
            card,
        );
        frame.render_widget(Paragraph::new(outcome.message.as_str()).wrap(Wrap { trim: true }).fg(color), head);
        let rows = outcome
            .orders
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let style = if i == self.pick.selected { Style::new().reversed() } else { Style::new() };
                let outcome = match o.outcome {
                    OrderOutcome::Received => "收件",
                    OrderOutcome::ReceivedOnHold => "收件·挂起中",
                    OrderOutcome::HeldUnpaid => "未支付挂起",
                    OrderOutcome::ClosedReturn => "需寄回",
                    OrderOutcome::AlreadyReceived => "已收过",
                };
                let cells = vec![
                    o.order_no.clone(),
                    outcome.to_string(),
                    o.company.clone(),
                    o.holder.clone(),
                    o.key_serial.clone(),
                    local(o.cert_not_after)[..10].to_string(),
                    format!(
                        "{}{}",
                        if o.paid { "已付" } else { "未付" },
                        if o.docs_approved { "·资料✓" } else { "·资料✗" }
                    ),
                ];
                (cells, style)
            })
            .collect();
        frame.render_widget(FittedTable::fit(&CARD_COLUMNS, table.width, rows), table);
        // The picked order's clocks: when its key must be back in the post, and its invoice issued.
        if let Some(picked) = outcome.orders.get(self.pick.selected) {
            let line = match self.clocks.get(&picked.order_no) {
                Some(rows) if !rows.is_empty() => {
                    let mut line = clock_line(rows);
                    line.spans.insert(0, Span::raw(format!("{} ", picked.order_no)));
                    line
                }
                Some(_) => Line::from(format!("{} 尚无时限（未收件）", picked.order_no)),
                None => Line::from(""),
            };
            frame.render_widget(Paragraph::new(line), clocks);
        }
    }
}
