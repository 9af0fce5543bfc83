//! The search screen (查找): one field for company, phone tail, account, key serial, order or waybill
//! number; the matching orders (Enter on an empty field opens the picked one); the unmatched parcels.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::ListState;
use crate::desk::app::Effect;
use crate::desk::widgets::{order_table, window_offset};
use crate::domain::Order;
use crate::ops::intake::local;
use crate::store::UnmatchedParcel;

#[derive(Debug, Clone, Default)]
pub struct SearchScreen {
    pub input: String,
    /// What the last search asked for, named when it finds nothing.
    pub searched: String,
    pub results: Vec<Order>,
    pub list: ListState,
    pub unmatched: Vec<UnmatchedParcel>,
}

impl SearchScreen {
    /// Enter on the field: search for what was typed, or open the picked result when nothing was.
    pub fn enter(&mut self) -> Option<Effect> {
        let text = std::mem::take(&mut self.input).trim().to_string();
        if text.is_empty() {
            let order_no = self.results.get(self.list.selected)?.order_no.clone();
            return Some(Effect::LoadOrder { order_no });
        }
        self.searched = text.clone();
        Some(Effect::Search { text })
    }

    /// The results of a search arrived; a warning when there are none.
    pub fn found(&mut self, orders: Vec<Order>) -> Option<String> {
        let warning = orders.is_empty().then(|| format!("没有找到「{}」", self.searched));
        self.results = orders;
        self.list = ListState::default();
        warning
    }

    pub fn move_by(&mut self, delta: isize) {
        self.list.move_by(delta, self.results.len())
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let [input, results, unmatched] =
            Layout::vertical([Constraint::Length(3), Constraint::Min(4), Constraint::Length(6)]).areas(area);
        let field = Paragraph::new(format!(" {}▏", self.input)).block(
            Block::bordered().title(" 查找：公司、手机尾号、账号、KEY 编号、订单号、运单号，Enter 查找 / 打开 "),
        );
        frame.render_widget(field, input);
        let block = Block::bordered().title(format!(" 结果 {} ", self.results.len()));
        let height = block.inner(results).height.saturating_sub(1) as usize;
        let offset = window_offset(self.list.selected, height);
        let width = block.inner(results).width;
        let table = order_table(&self.results, self.list.selected, offset, height, width).block(block);
        frame.render_widget(table, results);
        let lines: Vec<Line> = self
            .unmatched
            .iter()
            .take(4)
            .map(|p| Line::from(format!(" {}  {}  {}", p.waybill, local(p.scanned_at), p.operator)))
            .collect();
        frame.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(format!(" 无主包裹 {} ", self.unmatched.len()))),
            unmatched,
        );
    }
}
