//! Drawing the desk: a pure function of the state. The frame around the screens (tabs, the database
//! banner, the message line, the print queue in the corner) and the overlays (the prompt, the help) are
//! drawn here; each screen draws its own body (`screens/`).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Clear, Paragraph, Row, Table};
use ratatui::Frame;

use crate::domain::{HoldReason, OrderNo};

use super::app::{App, Level, RenewProgress, Screen};
use super::keymap::Action;
use super::reader_panel::KeyVerdict;
use super::widgets::{centered, short};

pub fn render(app: &App, frame: &mut Frame) {
    let banner_height = u16::from(app.database_down.is_some());
    let elsewhere: Vec<Line> = app.order.running_elsewhere().take(MAX_RENEWAL_ROWS).map(renewal_row).collect();
    let [top, banner, body, renewals, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner_height),
        Constraint::Min(3),
        Constraint::Length(elsewhere.len() as u16),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(elsewhere), renewals);
    render_top(app, frame, top);
    if let Some(detail) = &app.database_down {
        let text = format!(" 数据库连接中断，正在重连…（扫描会暂存，恢复后自动提交）{}", short(detail, 40));
        frame.render_widget(Paragraph::new(text).style(Style::new().bg(Color::Red).fg(Color::White).bold()), banner);
    }
    match app.screen {
        Screen::SignIn => app.signin.draw(frame, body),
        Screen::Scan => app.scan.draw(frame, body),
        Screen::Search => app.search.draw(frame, body),
        Screen::Board => app.board.draw(frame, body),
        Screen::Order => app.order.draw(frame, body, &app.reader, &app.keymap, app.keygen_typical, &app.scan.input),
    }
    render_status(app, frame, status);
    if app.prompt.is_some() {
        render_prompt(app, frame, body);
    }
    if app.help {
        render_help(app, frame, body);
    }
    if app.monochrome {
        // NO_COLOR: every state is said in words already; colours go, reversed and bold stay.
        for cell in frame.buffer_mut().content.iter_mut() {
            cell.set_fg(Color::Reset).set_bg(Color::Reset);
        }
    }
}

/// The most renewals running elsewhere shown above the message line (one reader each; a desk has few).
const MAX_RENEWAL_ROWS: usize = 4;

/// A renewal that runs while another order is on screen: its order, the steps done, the one running.
fn renewal_row((order_no, r): (&OrderNo, &RenewProgress)) -> Line<'static> {
    let step = r.running_step().map_or("识别并登录 KEY", |s| s.label());
    let secs = r.running_for().map(|d| format!(" {:.0} 秒", d.as_secs_f64())).unwrap_or_default();
    Line::from(format!(" 续签中 {order_no}：已完成 {} 步 · {step}{secs}（请勿拔出该 KEY）", r.steps.len()))
        .style(Style::new().fg(Color::Yellow))
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
        let (color, word) = match level {
            Level::Info => (Color::Green, ""),
            Level::Warn => (Color::Yellow, "[注意] "),
            Level::Error => (Color::Red, "[错误] "),
        };
        // Without colour the level is said in words.
        let word = if app.monochrome { word } else { "" };
        spans.push(Span::styled(format!(" {word}{text}"), Style::new().fg(color)));
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
        let verdict = app.order.detail.as_ref().map(|d| app.reader.verdict(&d.order));
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
    // The PIN prompt opens by itself over the order: it sits at the bottom, so the order's facts and the
    // reader line (whose key it is, its PIN state) stay in view above it.
    let area = if p.is_pin() { bottom(centered(body, 50, body.height), height) } else { centered(body, 50, height) };
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(Text::from(lines)).block(Block::bordered().title(format!(" {} · {} ", p.title, p.order_no))),
        area,
    );
}

/// The last `height` rows of `area`.
fn bottom(area: Rect, height: u16) -> Rect {
    let height = height.min(area.height);
    Rect { y: area.y + area.height - height, height, ..area }
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
