//! Drawing the desk: a pure function of the state. One frame draws only the rows that fit, so the
//! board stays fast with ten thousand open orders.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders, Clear, Gauge, Paragraph, Row, Table, Wrap};
use ratatui::Frame;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::domain::{mask, HoldReason, Order, PrintKind, PrintState, Status};
use crate::ops::intake::{local, IntakeResult, OrderOutcome};
use crate::sla::board::RowClock;
use crate::sla::due::{format_instant_zh, format_minutes_zh};
use crate::sla::{ClockState, Policy};

use super::app::{App, Level, Screen};
use super::keymap::Action;
use super::reader_panel::{pin_state, KeyVerdict};

pub fn render(app: &App, frame: &mut Frame) {
    let banner_height = u16::from(app.database_down.is_some());
    let [top, banner, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner_height),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    render_top(app, frame, top);
    if let Some(detail) = &app.database_down {
        let text = format!(" 数据库连接中断，正在重连…（扫描会暂存，恢复后自动提交）{}", short(detail, 40));
        frame.render_widget(Paragraph::new(text).style(Style::new().bg(Color::Red).fg(Color::White).bold()), banner);
    }
    match app.screen {
        Screen::SignIn => render_signin(app, frame, body),
        Screen::Scan => render_scan(app, frame, body),
        Screen::Search => render_search(app, frame, body),
        Screen::Board => render_board(app, frame, body),
        Screen::Order => render_order(app, frame, body),
    }
    render_status(app, frame, status);
    if app.prompt.is_some() {
        render_prompt(app, frame, body);
    }
    if app.help {
        render_help(app, frame, body);
    }
}

/// At most `n` terminal columns (a CJK character takes two), with an ellipsis when cut.
fn short(s: &str, n: usize) -> String {
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
fn pad(s: &str, n: usize) -> String {
    format!("{s}{}", " ".repeat(n.saturating_sub(s.width())))
}

fn render_top(app: &App, frame: &mut Frame, area: Rect) {
    let km = &app.keymap;
    let tab = |action: Action, label: &str, screen: Screen| {
        let style = if app.screen == screen { Style::new().reversed() } else { Style::new() };
        Span::styled(format!(" {} {} ", km.key_text(action), label), style)
    };
    let operator = app.operator.as_deref().unwrap_or("未登录");
    let line = Line::from(vec![
        Span::styled(" keydesk 续签工作台 ", Style::new().bold().fg(Color::Cyan)),
        tab(Action::Scan, "收件", Screen::Scan),
        tab(Action::Search, "查找", Screen::Search),
        tab(Action::Board, "看板", Screen::Board),
        Span::raw(format!(" {} 帮助 ", km.key_text(Action::Help))),
        Span::styled(format!(" {}@{} ", operator, app.desk_name), Style::new().fg(Color::DarkGray)),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

fn render_status(app: &App, frame: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    if app.busy > 0 {
        spans.push(Span::styled(" 处理中… ", Style::new().fg(Color::Yellow)));
    }
    if !app.pending_scans.is_empty() {
        spans.push(Span::styled(format!(" 暂存扫描 {} ", app.pending_scans.len()), Style::new().fg(Color::Yellow)));
    }
    if let Some((level, text)) = &app.message {
        let color = match level {
            Level::Info => Color::Green,
            Level::Warn => Color::Yellow,
            Level::Error => Color::Red,
        };
        spans.push(Span::styled(format!(" {text}"), Style::new().fg(color)));
    }
    let queue = print_queue_span(app);
    let [left, right] = Layout::horizontal([Constraint::Min(10), Constraint::Length(queue.width() as u16)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(spans)), left);
    frame.render_widget(Paragraph::new(Line::from(queue)), right);
}

/// The print queue, always in the corner: what waits (yellow), what failed (red), what printed today.
fn print_queue_span(app: &App) -> Span<'static> {
    match &app.print_queue {
        None => Span::raw(""),
        Some(q) if q.failed > 0 => Span::styled(
            format!(" 打印失败 {} · 排队 {} ", q.failed, q.queued),
            Style::new().fg(Color::White).bg(Color::Red),
        ),
        Some(q) if q.queued > 0 => {
            Span::styled(format!(" 打印排队 {} ", q.queued), Style::new().fg(Color::Black).bg(Color::Yellow))
        }
        Some(q) => Span::styled(format!(" 今日已打印 {} ", q.printed_since), Style::new().fg(Color::DarkGray)),
    }
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))]).flex(Flex::Center).areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))]).flex(Flex::Center).areas(row);
    cell
}

fn render_signin(app: &App, frame: &mut Frame, area: Rect) {
    let f = &app.signin;
    let cursor = |on: bool| if on { "▏" } else { "" };
    let mut lines = vec![
        Line::from(""),
        Line::from(format!(" 操作员：{}{}", f.name, cursor(!f.on_secret))),
        Line::from(format!(" 密  码：{}{}", "•".repeat(f.secret.chars().count()), cursor(f.on_secret))),
        Line::from(""),
    ];
    if f.busy {
        lines.push(Line::from(" 正在验证…").fg(Color::Yellow));
    } else if let Some(e) = &f.error {
        lines.push(Line::from(format!(" {e}")).fg(Color::Red));
    } else {
        lines.push(Line::from(" Tab 切换，Enter 登录").fg(Color::DarkGray));
    }
    let area = centered(area, 44, 8);
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(" 操作员登录 ")), area);
}

fn render_scan(app: &App, frame: &mut Frame, area: Rect) {
    let [input, card, history] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(6), Constraint::Length(7)]).areas(area);
    let field = Paragraph::new(Line::from(vec![
        Span::raw(" "),
        Span::raw(app.scan_input.as_str()),
        Span::styled("▏", Style::new().fg(Color::Cyan)),
    ]))
    .block(
        Block::bordered().title(" 扫描或输入运单号（顺丰），Enter 确认 ").border_style(Style::new().fg(Color::Cyan)),
    );
    frame.render_widget(field, input);

    match &app.last_intake {
        None => frame.render_widget(
            Paragraph::new(" 等待扫描。扫码枪扫描包裹上的顺丰运单即可收件；一个包裹多个 KEY 会全部收件。")
                .wrap(Wrap { trim: true })
                .block(Block::bordered().title(" 收件结果 ")),
            card,
        ),
        Some(outcome) => {
            let (label, color) = match outcome.result {
                IntakeResult::Matched => ("已收件", Color::Green),
                IntakeResult::AlreadyReceived => ("此前已收件", Color::Cyan),
                IntakeResult::Unpaid => ("未支付 · 已挂起", Color::Yellow),
                IntakeResult::Closed => ("订单已关闭 · 需寄回", Color::Yellow),
                IntakeResult::Unknown => ("无主包裹", Color::Yellow),
                IntakeResult::NotSf => ("不是顺丰", Color::Red),
                IntakeResult::Invalid => ("无法识别", Color::Red),
            };
            let [head, table] = Layout::vertical([Constraint::Length(2), Constraint::Min(2)])
                .areas(card.inner(ratatui::layout::Margin::new(1, 1)));
            frame.render_widget(
                Block::bordered().title(format!(" 收件结果 · {label} ")).border_style(Style::new().fg(color)),
                card,
            );
            frame.render_widget(Paragraph::new(outcome.message.as_str()).wrap(Wrap { trim: true }).fg(color), head);
            let rows = outcome.orders.iter().enumerate().map(|(i, o)| {
                let style = if i == app.intake_pick.selected { Style::new().reversed() } else { Style::new() };
                let outcome = match o.outcome {
                    OrderOutcome::Received => "收件",
                    OrderOutcome::ReceivedOnHold => "收件·挂起中",
                    OrderOutcome::HeldUnpaid => "未支付挂起",
                    OrderOutcome::ClosedReturn => "需寄回",
                    OrderOutcome::AlreadyReceived => "已收过",
                };
                Row::new(vec![
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
                ])
                .style(style)
            });
            let widths = [
                Constraint::Length(16),
                Constraint::Length(10),
                Constraint::Min(10),
                Constraint::Length(6),
                Constraint::Length(11),
                Constraint::Length(10),
                Constraint::Length(12),
            ];
            let header = Row::new(vec!["订单号", "结果", "单位", "持有人", "KEY 编号", "证书到期", "支付/资料"])
                .style(Style::new().bold());
            frame.render_widget(Table::new(rows, widths).header(header), table);
        }
    }

    let lines: Vec<Line> = app
        .history
        .iter()
        .skip(1)
        .take(5)
        .map(|h| Line::from(format!(" {}  {}", h.waybill.as_deref().unwrap_or("-"), short(&h.message, 60))))
        .collect();
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(" 最近扫描 ")), history);
}

fn order_rows<'a>(orders: &'a [Order], selected: usize, offset: usize, height: usize) -> impl Iterator<Item = Row<'a>> {
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

fn order_widths() -> [Constraint; 6] {
    [
        Constraint::Length(16),
        Constraint::Length(8),
        Constraint::Min(12),
        Constraint::Length(6),
        Constraint::Length(11),
        Constraint::Length(15),
    ]
}

fn order_header() -> Row<'static> {
    Row::new(vec!["订单号", "状态", "单位", "持有人", "KEY 编号", "寄来运单"]).style(Style::new().bold())
}

fn status_style(status: Status) -> Style {
    match status {
        Status::OnHold => Style::new().fg(Color::Yellow),
        Status::Paid => Style::new(),
        Status::Received | Status::Renewing => Style::new().fg(Color::Cyan),
        Status::Renewed => Style::new().fg(Color::Green),
        _ => Style::new().fg(Color::DarkGray),
    }
}

/// The first row to draw so the selected one stays visible.
fn window_offset(selected: usize, height: usize) -> usize {
    if height == 0 {
        0
    } else {
        selected.saturating_sub(height - 1)
    }
}

fn render_search(app: &App, frame: &mut Frame, area: Rect) {
    let [input, results, unmatched] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(4), Constraint::Length(6)]).areas(area);
    let field = Paragraph::new(format!(" {}▏", app.search_input))
        .block(Block::bordered().title(" 查找：公司、手机尾号、账号、KEY 编号、订单号、运单号，Enter 查找 / 打开 "));
    frame.render_widget(field, input);
    let block = Block::bordered().title(format!(" 结果 {} ", app.search_results.len()));
    let height = block.inner(results).height.saturating_sub(1) as usize;
    let offset = window_offset(app.search_list.selected, height);
    let table = Table::new(order_rows(&app.search_results, app.search_list.selected, offset, height), order_widths())
        .header(order_header())
        .block(block);
    frame.render_widget(table, results);
    let lines: Vec<Line> = app
        .unmatched
        .iter()
        .take(4)
        .map(|p| Line::from(format!(" {}  {}  {}", p.waybill, local(p.scanned_at), p.operator)))
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(format!(" 无主包裹 {} ", app.unmatched.len()))),
        unmatched,
    );
}

fn state_style(state: Option<ClockState>) -> Style {
    match state {
        Some(ClockState::Breached) | Some(ClockState::Missed) => Style::new().fg(Color::Red).bold(),
        Some(ClockState::DueToday) => Style::new().fg(Color::LightRed),
        Some(ClockState::AtRisk) => Style::new().fg(Color::Yellow),
        Some(ClockState::OnHold) => Style::new().fg(Color::Magenta),
        Some(ClockState::OnTrack) | Some(ClockState::Met) => Style::new().fg(Color::Green),
        None => Style::new().fg(Color::DarkGray),
    }
}

/// The chart takes seven rows when the board has room for it (at 80×24 it does).
const CHART_ROWS: u16 = 7;

/// Received, shipped and gone late per day for the last two weeks: three bars a day.
fn render_trend(app: &App, frame: &mut Frame, area: Rect) {
    let Some(trend) = &app.trend else {
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
            let bar =
                |v: u32, color: Color| Bar::new(u64::from(v)).style(Style::new().fg(color)).text_value(String::new());
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

fn render_board(app: &App, frame: &mut Frame, area: Rect) {
    let chart_rows = if area.height >= CHART_ROWS + 8 { CHART_ROWS } else { 0 };
    let [counts, chart, list] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(chart_rows), Constraint::Min(3)]).areas(area);
    if chart_rows > 0 {
        render_trend(app, frame, chart);
    }
    let Some(board) = &app.board else {
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
    let offset = window_offset(app.board_list.selected, height);
    // Only the rows that fit are built: ten thousand open orders cost the same frame as fifty.
    let rows = board.rows.iter().enumerate().skip(offset).take(height).map(|(i, r)| {
        let (state, due, left) = match &r.clock {
            RowClock::Evaluated(e) => (
                e.state.label_zh().to_string(),
                format_instant_zh(e.schedule.due_at),
                format_minutes_zh(e.remaining_minutes),
            ),
            RowClock::Unavailable { reason } => ("无法计算".to_string(), short(reason, 20), String::new()),
        };
        let status = Status::from_code(&r.status_code).map(|s| s.label()).unwrap_or("");
        let style = if i == app.board_list.selected { Style::new().reversed() } else { state_style(r.state()) };
        let policy = match r.policy {
            Policy::Return => "寄回",
            Policy::Invoice => "开票",
        };
        Row::new(vec![r.order_no.clone(), policy.to_string(), state, due, left, status.to_string()]).style(style)
    });
    let widths = [
        Constraint::Length(16),
        Constraint::Length(4),
        Constraint::Length(8),
        Constraint::Length(24),
        Constraint::Length(14),
        Constraint::Min(6),
    ];
    let header = Row::new(vec!["订单号", "时限", "状态", "到期", "剩余工作时间", "订单"]).style(Style::new().bold());
    frame.render_widget(Table::new(rows, widths).header(header).block(block), list);
}

fn render_order(app: &App, frame: &mut Frame, area: Rect) {
    let Some(d) = &app.detail else {
        frame.render_widget(Paragraph::new(" 没有打开的订单"), area);
        return;
    };
    let o = &d.order;
    let show = |full: &str, masked: String| if app.revealed { full.to_string() } else { masked };
    let [info, timeline] = Layout::vertical([Constraint::Length(12), Constraint::Min(3)]).areas(area);
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
            " KEY 编号：{}   证书：{}  到期 {}  {}",
            o.key_serial,
            o.cert.serial,
            local(o.cert.not_after),
            if o.cert.seal == crate::domain::order::SealKind::Single { "单章" } else { "双章" }
        )),
        Line::from(format!(
            " 办理人：{} {}  证件 {}  资料{}",
            show(&o.handler.name, mask::name(&o.handler.name)),
            show(&o.handler.phone, mask::phone(&o.handler.phone)),
            show(&o.handler.id_number, mask::id_number(&o.handler.id_number)),
            if o.handler.docs_approved { "已审核" } else { "未审核" }
        )),
        Line::from(format!(
            " 支付：{}   寄来运单：{}   收件：{}",
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
    if let Some(h) = &o.hold {
        lines.push(
            Line::from(format!(" 挂起：{} {}（解除后回到「{}」）", h.reason.label(), h.note, h.resume_to.label()))
                .fg(Color::Yellow),
        );
    }
    lines.push(key_line(&app.reader.verdict(o)));
    let km = &app.keymap;
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
            if app.revealed { "（已显示完整信息）" } else { "显示完整信息" }
        ))
        .fg(Color::DarkGray),
    );
    if o.status == crate::domain::Status::Renewing {
        lines.push(
            Line::from(format!(
                " 续签任务进行中：{} 继续续签  {} 放弃续签",
                km.key_text(Action::Renew),
                km.key_text(Action::Abandon)
            ))
            .fg(Color::DarkGray),
        );
    }
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(" 订单详情 ")), info);
    if let Some(r) = app.renewal.as_ref().filter(|r| r.order_no == o.order_no.as_str()) {
        render_renewal(r, app.keygen_typical, frame, timeline);
        return;
    }
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
    frame.render_widget(Paragraph::new(events).block(Block::bordered().title(" 时间线 ")), timeline);
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

fn render_renewal(r: &super::app::RenewProgress, typical: std::time::Duration, frame: &mut Frame, area: Rect) {
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
    let generating = r.running_step() == Some(crate::domain::renewal_job::RenewalStep::GenerateKey);
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

fn render_prompt(app: &App, frame: &mut Frame, body: Rect) {
    let Some(p) = &app.prompt else { return };
    let mut lines = Vec::new();
    if let Some(sel) = p.hold_reason() {
        for (i, r) in HoldReason::ALL.iter().enumerate() {
            let style = if i == sel { Style::new().reversed() } else { Style::new() };
            lines.push(Line::styled(format!(" {} ", r.label()), style));
        }
        lines.push(Line::from(""));
    }
    let (label, shown) = p.field();
    lines.push(Line::from(format!(" {label}：{shown}▏")));
    if p.is_pin() {
        let verdict = app.detail.as_ref().map(|d| app.reader.verdict(&d.order));
        match verdict.as_ref().and_then(KeyVerdict::pin_text) {
            Some(state) => {
                let warn = matches!(&verdict, Some(KeyVerdict::Matches { pin, .. }) if pin.final_try || pin.count_low);
                lines.push(Line::from(format!(" {state}")).fg(if warn { Color::Red } else { Color::Green }));
            }
            None => lines.push(Line::from(" KEY 的 PIN 状态未知：续签时由 KEY 核对").fg(Color::DarkGray)),
        }
    }
    lines.push(Line::from(" Enter 确认  Esc 取消").fg(Color::DarkGray));
    let height = lines.len() as u16 + 2;
    let area = centered(body, 50, height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(Text::from(lines)).block(Block::bordered().title(format!(" {} · {} ", p.title, p.order_no))),
        area,
    );
}

fn render_help(app: &App, frame: &mut Frame, body: Rect) {
    let rows: Vec<Row> =
        app.keymap.entries().map(|(a, key)| Row::new(vec![key.to_string(), a.description().to_string()])).collect();
    let height = rows.len() as u16 + 4;
    let area = centered(body, 60, height);
    frame.render_widget(Clear, area);
    let table = Table::new(rows, [Constraint::Length(8), Constraint::Min(10)])
        .block(Block::bordered().title(" 快捷键（可在配置 [desk.keys] 中修改） "))
        .style(Style::new().add_modifier(Modifier::empty()));
    frame.render_widget(table, area);
}
