//! The order screen: one order's facts (personal data masked until 显示完整信息, which is audited),
//! whether the key in the reader is its key and its PIN state, the keys that act on it (renew, ship,
//! print, hold, release, cancel, abandon), its documents' print state, and below either the renewal
//! under way, step by step with a gauge while the key generates its pair, or the order's timeline.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, Paragraph};
use ratatui::Frame;

use crate::desk::app::Level;
use crate::desk::keymap::{Action, Keymap};
use crate::desk::reader_panel::{pin_state, KeyVerdict, ReaderPanel};
use crate::desk::widgets::{clock_line, pad, status_style};
use crate::domain::renewal_job::RenewalStep;
use crate::domain::{mask, Order, OrderNo, PrintKind, PrintState, Status};
use crate::ops::intake::local;
use crate::ops::orders::OrderDetail;
use crate::ops::renew::StepReport;

#[derive(Debug, Clone, Default)]
pub struct OrderScreen {
    pub detail: Option<OrderDetail>,
    /// The order's personal data is shown in full (after an audited reveal).
    pub revealed: bool,
    /// The renewals of this session by order, running or ended: several run at once, one per key (each
    /// with a token worker of its own), while the operator opens the next parcel.
    pub renewals: BTreeMap<OrderNo, RenewProgress>,
}

/// One order's renewal, running or last run, step by step.
#[derive(Debug, Clone, Default)]
pub struct RenewProgress {
    pub steps: Vec<StepReport>,
    pub running: bool,
    /// When the step now running began (the previous one's end), and the latest tick.
    pub step_since: Option<Instant>,
    pub now: Option<Instant>,
    /// The result line: new validity, or what went wrong and how to resume.
    pub result: Option<(Level, String)>,
}

impl RenewProgress {
    /// The journaled step running now: the one after the last reported (before `start`, none).
    pub fn running_step(&self) -> Option<RenewalStep> {
        if !self.running {
            return None;
        }
        self.steps.iter().rev().find_map(|s| RenewalStep::from_code(s.step)).and_then(RenewalStep::next)
    }

    /// How long the running step has taken so far (to the last tick).
    pub fn running_for(&self) -> Option<Duration> {
        Some(self.now?.saturating_duration_since(self.step_since?))
    }
}

impl OrderScreen {
    /// The open order's number.
    pub fn order_no(&self) -> Option<&OrderNo> {
        self.detail.as_ref().map(|d| &d.order.order_no)
    }

    /// The open order's renewal, running or last run.
    pub fn renewal(&self) -> Option<&RenewProgress> {
        self.renewals.get(self.order_no()?)
    }

    /// The renewals still running, other than the open order's.
    pub fn running_elsewhere(&self) -> impl Iterator<Item = (&OrderNo, &RenewProgress)> {
        let open = self.order_no();
        self.renewals.iter().filter(move |(no, r)| r.running && Some(*no) != open)
    }

    /// The open order: its facts (masked until revealed), whether the key in the reader is its key, the
    /// keys that act on it, and below either the renewal under way or the order's timeline.
    /// `scan` is what the scanner has sent so far on this screen (a renewed order ships on its waybill).
    pub fn draw(
        &self,
        frame: &mut Frame,
        area: Rect,
        reader: &ReaderPanel,
        keymap: &Keymap,
        keygen_typical: Duration,
        scan: &str,
    ) {
        let Some(d) = &self.detail else {
            frame.render_widget(Paragraph::new(" 没有打开的订单"), area);
            return;
        };
        let o = &d.order;
        let mut lines = self.fact_lines(d);
        lines.push(key_line(&reader.verdict(o)));
        lines.extend(self.key_hints(o, keymap, scan));
        let [info, timeline] =
            Layout::vertical([Constraint::Length(lines.len() as u16 + 2), Constraint::Min(3)]).areas(area);
        let block = Block::bordered().title(" 订单详情 ").title_bottom(clock_line(&d.clocks));
        frame.render_widget(Paragraph::new(lines).block(block), info);
        match self.renewals.get(&o.order_no) {
            Some(r) => draw_renewal(r, keygen_typical, frame, timeline),
            None => draw_timeline(d, frame, timeline),
        }
    }

    /// The order's facts, personal data masked unless revealed.
    fn fact_lines(&self, d: &OrderDetail) -> Vec<Line<'static>> {
        let o = &d.order;
        let show = |full: &str, masked: String| if self.revealed { full.to_string() } else { masked };
        let mut lines = vec![
            Line::from(vec![
                Span::styled(format!(" {} ", o.order_no), Style::new().bold()),
                Span::styled(format!(" {} ", o.status.label()), status_style(o.status).reversed()),
                Span::raw(format!("  {} 元 / {} 年  {}", o.amount, o.term_years, o.kind.label())),
            ]),
            Line::from(format!(" 单位：{}   账号：{}", o.company, o.account)),
            Line::from(format!(
                " 持有人：{}   电话：{}",
                show(&o.holder_name, mask::name(&o.holder_name)),
                show(&o.contact_phone, mask::phone(&o.contact_phone))
            )),
            Line::from(format!(
                // The expiry before the certificate's serial: a renewed certificate's serial is 32 hex
                // digits, and at 80 columns it is the end of the line that is cut.
                " KEY 编号：{}  到期 {} {}  证书 {}",
                o.key_serial,
                local(o.cert.not_after),
                if o.cert.seal == crate::domain::order::SealKind::Single { "单章" } else { "双章" },
                o.cert.serial
            )),
            Line::from(format!(
                " 办理人：{} {}  证件 {}  资料{}",
                show(&o.handler.name, mask::name(&o.handler.name)),
                show(&o.handler.phone, mask::phone(&o.handler.phone)),
                show(&o.handler.id_number, mask::id_number(&o.handler.id_number)),
                if o.handler.docs_approved { "已审核" } else { "未审核" }
            )),
            Line::from(format!(
                " 支付：{}  寄来运单：{}  收件：{}",
                o.paid_at.map(local).unwrap_or_else(|| "未支付".into()),
                o.inbound.waybill.as_deref().unwrap_or("-"),
                o.received_at
                    .map(|t| format!("{} {}", local(t), o.received_by.as_deref().unwrap_or("")))
                    .unwrap_or_else(|| "-".into())
            )),
            Line::from(format!(
                " 寄回：{} {} {}",
                show(&o.ship_to.name, mask::name(&o.ship_to.name)),
                show(&o.ship_to.phone, mask::phone(&o.ship_to.phone)),
                show(
                    &format!("{}{}", o.ship_to.region, o.ship_to.address),
                    mask::address(&o.ship_to.region, &o.ship_to.address)
                )
            )),
            Line::from(format!(
                " 寄回运单：{}   发票：{}{}",
                o.outbound_waybill.as_ref().map(|w| w.as_str()).unwrap_or("-"),
                o.invoice_status.label(),
                prints_text(&d.prints)
            )),
        ];
        if let Some(text) = courier_text(o) {
            lines.push(Line::from(text));
        }
        if let Some(text) = notices_text(&d.notices) {
            lines.push(Line::from(text).fg(Color::DarkGray));
        }
        if let Some(h) = &o.hold {
            lines.push(
                Line::from(format!(" 挂起：{} {}（解除后回到「{}」）", h.reason.label(), h.note, h.resume_to.label()))
                    .fg(Color::Yellow),
            );
        }
        lines
    }

    /// The keys that act on the order.
    fn key_hints(&self, o: &Order, km: &Keymap, scan: &str) -> Vec<Line<'static>> {
        let mut lines = Vec::new();
        if o.status == Status::Renewed {
            lines.push(
                Line::from(format!(" 扫描寄回运单即发货（或 {} 手动发货）：{scan}▏", km.key_text(Action::Ship)))
                    .fg(Color::Cyan),
            );
        }
        lines.push(
            Line::from(format!(
                " {} 续签  {} 发货  {} 打印  {} 挂起  {} 解除  {} 取消  {} {}",
                km.key_text(Action::Renew),
                km.key_text(Action::Ship),
                km.key_text(Action::Print),
                km.key_text(Action::Hold),
                km.key_text(Action::Release),
                km.key_text(Action::Cancel),
                km.key_text(Action::Reveal),
                if self.revealed { "（已显示完整信息）" } else { "显示完整信息" }
            ))
            .fg(Color::DarkGray),
        );
        if o.status == Status::Renewing {
            lines.push(
                Line::from(format!(
                    " 续签任务进行中：{} 继续续签  {} 放弃续签",
                    km.key_text(Action::Renew),
                    km.key_text(Action::Abandon)
                ))
                .fg(Color::DarkGray),
            );
        }
        lines
    }
}

/// The order's audit trail, newest first.
fn draw_timeline(d: &OrderDetail, frame: &mut Frame, area: Rect) {
    let events: Vec<Line> = d
        .audit
        .iter()
        .rev()
        .map(|a| {
            let label =
                |code: &Option<String>| code.as_deref().and_then(Status::from_code).map(|s| s.label()).unwrap_or("-");
            Line::from(format!(
                " {}  {} → {}  {}  {}@{}",
                local(a.at),
                label(&a.from_status),
                label(&a.to_status),
                a.reason,
                a.operator,
                a.desk
            ))
        })
        .collect();
    frame.render_widget(Paragraph::new(events).block(Block::bordered().title(" 时间线 ")), area);
}

/// The order's documents in the print queue: the newest job of each kind and its state.
fn prints_text(prints: &[crate::store::PrintJobRecord]) -> String {
    let newest = |kind: PrintKind| prints.iter().rev().find(|j| j.kind == kind);
    let parts: Vec<String> = PrintKind::ALL
        .into_iter()
        .filter_map(|kind| {
            newest(kind).map(|j| {
                let retry = if j.state == PrintState::Queued && j.attempts > 0 {
                    format!("（已试 {} 次）", j.attempts)
                } else {
                    String::new()
                };
                format!("{}{}{retry}", kind.label(), j.state.label())
            })
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("   打印：{}", parts.join(" · "))
    }
}

/// The newest notice to the member and how each channel stands for it (none: no line).
fn notices_text(notices: &[crate::store::NoticeRecord]) -> Option<String> {
    let newest = notices.last()?;
    let parts: Vec<String> = notices
        .iter()
        .filter(|n| n.kind == newest.kind && n.occurrence == newest.occurrence)
        .map(|n| format!("{}{}", n.channel.label(), n.state.label()))
        .collect();
    Some(format!(" 通知：{}（{}）  共 {} 条", newest.kind.label(), parts.join(" · "), notices.len()))
}

/// Whether the key in the reader is this order's, before F10.
fn key_line(verdict: &KeyVerdict) -> Line<'static> {
    let (text, color) = match verdict {
        KeyVerdict::NoKey(why) => (format!(" 读卡器：{why}"), Color::Cyan),
        KeyVerdict::Identifying => (" 读卡器：正在识别插入的 KEY…".to_string(), Color::Cyan),
        KeyVerdict::Failed(e) => (format!(" 读卡器：识别 KEY 失败：{e}"), Color::Red),
        KeyVerdict::Matches { serial, certificate_matches, pin } => (
            format!(
                " 读卡器：KEY {serial} 是本订单的 KEY（{}；{}）",
                if *certificate_matches { "证书相符" } else { "未找到订单中的证书" },
                pin_state(pin)
            ),
            if pin.locked || pin.final_try {
                Color::Red
            } else if pin.count_low || !certificate_matches {
                Color::Yellow
            } else {
                Color::Green
            },
        ),
        other => (format!(" 读卡器：{}", other.refusal().unwrap_or_default()), Color::Red),
    };
    Line::from(text).fg(color)
}

fn draw_renewal(r: &RenewProgress, typical: Duration, frame: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = r
        .steps
        .iter()
        .map(|s| {
            Line::from(format!(
                " ✓ {} {:>8.1} ms（KEY {:>7.1} ms）{}",
                pad(s.label, 12),
                s.total_ms,
                s.token_ms,
                s.note
            ))
        })
        .collect();
    let generating = r.running_step() == Some(RenewalStep::GenerateKey);
    if r.running && !generating {
        let step = r.running_step().map_or("正在识别并登录 KEY", |s| s.label());
        lines.push(Line::from(format!(" … {step}（请勿拔出 KEY）")).fg(Color::Yellow));
    }
    if let Some((level, text)) = &r.result {
        let color = if *level == Level::Error { Color::Red } else { Color::Green };
        lines.push(Line::from(format!(" {text}")).fg(color));
        if *level == Level::Error {
            lines.push(Line::from(" F10 重新续签（任务从中断处继续，不会重复签发）；F12 放弃续签").fg(Color::DarkGray));
        }
    }
    let block = Block::bordered().title(" 续签 ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // At 80×24 not every step fits: the earliest give way, so the step running and the result (what
    // the operator acts on) stay in view.
    let room = usize::from(inner.height.saturating_sub(u16::from(generating)));
    if lines.len() > room {
        lines.drain(..lines.len() - room);
    }
    if !generating || inner.height < 3 {
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    // Key generation on a real key takes seconds with no progress from PKCS#11: the gauge fills
    // against the usual time (`token.keygen_typical_secs`) and says how long it has been.
    let [text, gauge] = Layout::vertical([Constraint::Length(lines.len() as u16), Constraint::Length(1)]).areas(inner);
    frame.render_widget(Paragraph::new(lines), text);
    let elapsed = r.running_for().unwrap_or_default();
    let ratio = (elapsed.as_secs_f64() / typical.as_secs_f64().max(0.1)).min(0.99);
    let label =
        format!("在 KEY 上生成新密钥 {:.1} 秒 / 通常约 {} 秒，请勿拔出 KEY", elapsed.as_secs_f64(), typical.as_secs());
    frame.render_widget(Gauge::default().ratio(ratio).label(label).gauge_style(Style::new().fg(Color::Yellow)), gauge);
}

/// When the key left: the ship scan, and SF's pickup and delivery once its routes said so (the return
/// clock stops at the pickup when there is one). `None` before shipping.
fn courier_text(o: &crate::domain::Order) -> Option<String> {
    let at =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&crate::sla::SHANGHAI).format("%m-%d %H:%M").to_string();
    let shipped = o.shipped_at?;
    let mut text = format!(" 发货扫描 {}", at(shipped));
    text.push_str(&match o.picked_up_at {
        Some(t) => format!(" · 顺丰揽收 {}（时限按揽收计）", at(t)),
        None => " · 顺丰未报揽收".to_string(),
    });
    if let Some(t) = o.delivered_at {
        text.push_str(&format!(" · 已签收 {}", at(t)));
    }
    Some(text)
}
