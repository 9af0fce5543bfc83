//! The desk's state and its update function: messages in (keys, results of background work), effects
//! out. Nothing here does I/O, so every behaviour is tested without a terminal.

use std::collections::VecDeque;
use std::time::Instant;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::domain::order::Change;
use crate::domain::{HoldReason, Order, OrderNo, Status};
use crate::ops::intake::{IntakeOutcome, IntakeResult};
use crate::store::UnmatchedParcel;

use super::keymap::{Action, Keymap};
use super::reader_panel::KeyVerdict;
pub use super::reader_panel::ReaderPanel;
use super::scan_detector::ScanDetector;
use crate::token::reader::ReaderEvent;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    SignIn,
    Scan,
    Search,
    Board,
    Order,
}

/// Background work the desk asks for; the runner answers with a [`Msg`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    SignIn {
        name: String,
        secret: String,
    },
    Intake {
        scan: String,
    },
    /// A scan on a renewed order's screen: its return waybill (it ships), or the next parcel when an
    /// order already waits for that waybill.
    ScanOnOrder {
        order_no: OrderNo,
        scan: String,
    },
    LoadOrder {
        order_no: OrderNo,
    },
    /// The clocks of a scan's orders, for its card.
    LoadClocks {
        order_nos: Vec<OrderNo>,
    },
    Search {
        text: String,
    },
    LoadUnmatched,
    LoadBoard,
    /// The board's two-week chart.
    LoadTrend,
    /// The inbound parcels SF reported and the desk has not scanned (到件预计, 疑似遗失).
    LoadArrivals,
    Change {
        order_no: OrderNo,
        change: Change,
        reason: String,
    },
    Reveal {
        order_no: OrderNo,
    },
    Ship {
        order_no: OrderNo,
        waybill: String,
    },
    Renew {
        order_no: OrderNo,
        pin: Pin,
    },
    /// 放弃续签: end the running job on purpose.
    Abandon {
        order_no: OrderNo,
        reason: String,
        pin: Pin,
    },
    Print {
        order_no: OrderNo,
    },
    /// Last week's report into the export folder (the board's key).
    ExportReport,
    /// Which key is in `reader`, and whose (the module the ATR chose).
    Identify {
        reader: String,
        atr: String,
        module: String,
    },
    Quit,
}

use super::prompt::Submit;
pub use super::prompt::{Pin, Prompt, PromptInput};
pub use super::screens::{BoardScreen, ListState, OrderScreen, RenewProgress, ScanScreen, SearchScreen, SignInForm};

/// An order with what the detail screen shows of its history.
pub use crate::ops::orders::OrderDetail;

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent, Instant),
    /// The clock, a few times a second: running timers (the key generation gauge) move on.
    Tick(Instant),
    /// The print queue after the background run: what waits, what failed.
    PrintQueue(Result<crate::store::PrintQueueStatus, String>),
    Paste(String),
    SignedIn(Result<String, String>),
    IntakeDone {
        scan: String,
        result: Result<IntakeOutcome, WorkError>,
    },
    OrderLoaded(Result<OrderDetail, String>),
    ClocksLoaded(Result<Vec<(OrderNo, Vec<crate::sla::board::BoardRow>)>, String>),
    /// The order shipped (F9, or its return waybill scanned on its screen).
    Shipped(Result<OrderDetail, String>),
    SearchDone(Result<Vec<Order>, String>),
    UnmatchedLoaded(Result<Vec<UnmatchedParcel>, String>),
    BoardLoaded(Result<crate::sla::board::Board, String>),
    TrendLoaded(Result<crate::sla::trend::Trend, String>),
    ArrivalsLoaded(Result<crate::ops::routes::Arrivals, String>),
    ChangeDone(Result<OrderDetail, String>),
    Revealed(Result<(), String>),
    RenewStep {
        order_no: OrderNo,
        step: crate::ops::renew::StepReport,
    },
    Printed(Result<String, String>),
    /// The report was written: where.
    ReportExported(Result<String, String>),
    Reader(ReaderEvent),
    KeyIdentified {
        reader: String,
        atr: String,
        result: Result<Vec<crate::ops::identify::IdentifiedKey>, String>,
    },
    RenewDone {
        order_no: OrderNo,
        result: Result<String, String>,
    },
    /// 放弃续签 ended: what was done, and the order as it is now.
    AbandonDone(Result<(String, OrderDetail), String>),
    /// Another desk changed something: reload what is on screen.
    ExternalChange,
    Database {
        up: bool,
        detail: String,
    },
}

/// A failure of background work: whether the database was unreachable (retry later) or the work refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkError {
    pub unavailable: bool,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

pub struct App {
    pub keymap: Keymap,
    pub desk_name: String,
    pub screen: Screen,
    pub operator: Option<String>,
    pub signin: SignInForm,
    pub scan: ScanScreen,
    pub search: SearchScreen,
    pub board: BoardScreen,
    pub order: OrderScreen,
    /// Tells a scanner's burst from typing, on whichever screen has the keyboard.
    pub detector: ScanDetector,
    pub prompt: Option<Prompt>,
    pub reader: ReaderPanel,
    pub print_queue: Option<crate::store::PrintQueueStatus>,
    /// How long key generation usually takes on a real key (`token.keygen_typical_secs`): the gauge's scale.
    pub keygen_typical: std::time::Duration,
    pub help: bool,
    /// What staff must do about the holiday calendar, said at sign-in (the board shows it too).
    pub calendar_notice: Option<String>,
    /// Draw without colour (`NO_COLOR`): levels and states in words only.
    pub monochrome: bool,
    /// Label and invoice go to the print queue as soon as an order ships (`desk.print_on_ship`).
    pub print_on_ship: bool,
    /// The PIN prompt was offered for this order with this key (reader, ATR): offered once, so Esc
    /// closes it until the key is pulled or inserted again.
    pin_offered: Option<(OrderNo, String, String)>,
    pub database_down: Option<String>,
    /// Scans taken while the database was down, sent again when it returns.
    pub pending_scans: VecDeque<String>,
    pub message: Option<(Level, String)>,
    pub busy: usize,
    pub quit: bool,
}

impl App {
    pub fn new(keymap: Keymap, desk_name: &str) -> App {
        App {
            keymap,
            desk_name: desk_name.to_string(),
            screen: Screen::SignIn,
            operator: None,
            signin: SignInForm::default(),
            scan: ScanScreen::default(),
            search: SearchScreen::default(),
            board: BoardScreen::default(),
            order: OrderScreen::default(),
            detector: ScanDetector::default(),
            prompt: None,
            reader: ReaderPanel::default(),
            print_queue: None,
            keygen_typical: std::time::Duration::from_secs(20),
            help: false,
            calendar_notice: None,
            monochrome: false,
            print_on_ship: true,
            pin_offered: None,
            database_down: None,
            pending_scans: VecDeque::new(),
            message: None,
            busy: 0,
            quit: false,
        }
    }

    fn say(&mut self, level: Level, text: impl Into<String>) {
        self.message = Some((level, text.into()));
    }

    /// Opens an order named by a row that holds its number as text (the board, a scan's matches).
    fn open_order(&mut self, raw: &str) -> Vec<Effect> {
        match OrderNo::parse(raw) {
            Ok(order_no) => self.start(Effect::LoadOrder { order_no }),
            Err(e) => {
                self.say(Level::Error, format!("订单号 {raw} 无法打开：{e}"));
                vec![]
            }
        }
    }

    fn start(&mut self, effect: Effect) -> Vec<Effect> {
        if effect != Effect::Quit {
            self.busy += 1;
        }
        vec![effect]
    }

    /// The board and its chart, loaded side by side.
    fn load_board(&mut self) -> Vec<Effect> {
        let mut effects = self.start(Effect::LoadBoard);
        effects.extend(self.start(Effect::LoadTrend));
        effects.extend(self.start(Effect::LoadArrivals));
        effects
    }

    fn done(&mut self) {
        self.busy = self.busy.saturating_sub(1);
    }

    /// The one entry point: a message in, effects out.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key, at) => self.on_key(key, at),
            Msg::Paste(text) => {
                if self.screen == Screen::Scan && self.prompt.is_none() {
                    self.scan.input.push_str(&text);
                }
                vec![]
            }
            Msg::SignedIn(result) => {
                self.done();
                match result {
                    Ok(name) => {
                        self.operator = Some(name.clone());
                        self.signin = SignInForm::default();
                        self.screen = Screen::Scan;
                        match &self.calendar_notice {
                            Some(notice) => self.say(Level::Warn, format!("{name} 已登录。{notice}")),
                            None => self.say(Level::Info, format!("{name} 已登录，请扫描运单")),
                        }
                    }
                    Err(e) => self.signin.refused(e),
                }
                vec![]
            }
            Msg::IntakeDone { scan, result } => self.on_intake(scan, result),
            Msg::OrderLoaded(result) | Msg::ChangeDone(result) => {
                self.settle(result, |app, detail| {
                    app.order.detail = Some(detail);
                    app.screen = Screen::Order;
                });
                self.offer_pin()
            }
            Msg::ClocksLoaded(result) => self.settle(result, |app, clocks| {
                app.scan.clocks = clocks.into_iter().map(|(no, rows)| (no.to_string(), rows)).collect();
            }),
            Msg::Shipped(result) => self.on_shipped(result),
            Msg::SearchDone(result) => self.settle(result, |app, orders| {
                if let Some(warning) = app.search.found(orders) {
                    app.say(Level::Warn, warning);
                }
            }),
            Msg::UnmatchedLoaded(result) => self.settle(result, |app, parcels| app.search.unmatched = parcels),
            Msg::BoardLoaded(result) => self.settle(result, |app, board| app.board.loaded(board)),
            Msg::TrendLoaded(result) => self.settle(result, |app, trend| app.board.trend = Some(trend)),
            Msg::ArrivalsLoaded(result) => self.settle(result, |app, arrivals| app.board.arrivals = Some(arrivals)),
            Msg::Revealed(result) => self.settle(result, |app, ()| app.order.revealed = true),
            Msg::Reader(event) => {
                // A key pulled or inserted: the PIN prompt may be offered again.
                if matches!(event, ReaderEvent::CardInserted { .. } | ReaderEvent::CardRemoved { .. }) {
                    self.pin_offered = None;
                }
                self.on_reader(event)
            }
            Msg::Tick(at) => {
                for r in self.order.renewals.values_mut().filter(|r| r.running) {
                    r.now = Some(at);
                    r.step_since.get_or_insert(at);
                }
                vec![]
            }
            Msg::PrintQueue(result) => self.on_print_queue(result),
            Msg::KeyIdentified { reader, atr, result } => {
                self.reader.identified(&reader, &atr, result);
                self.offer_pin()
            }
            Msg::Printed(result) => {
                self.settle(result, |app, text| app.say(Level::Info, text));
                self.reload()
            }
            Msg::ReportExported(result) => self.settle(result, |app, text| app.say(Level::Info, text)),
            Msg::RenewStep { order_no, step } => {
                if let Some(r) = self.order.renewals.get_mut(&order_no) {
                    r.steps.push(step);
                    r.step_since = r.now;
                }
                vec![]
            }
            Msg::RenewDone { order_no, result } => self.on_renew_done(order_no, result),
            Msg::AbandonDone(result) => {
                self.settle(result, |app, (text, detail)| {
                    app.order.renewals.remove(&detail.order.order_no);
                    app.order.detail = Some(detail);
                    app.say(Level::Info, text);
                });
                self.identify_again()
            }
            Msg::ExternalChange => self.reload(),
            Msg::Database { up, detail } => self.on_database(up, detail),
        }
    }

    fn on_reader(&mut self, event: ReaderEvent) -> Vec<Effect> {
        match self.reader.apply(event) {
            // Identification is quick and needs no PIN; it is not counted as busy work.
            Some((reader, atr, module)) => vec![Effect::Identify { reader, atr, module }],
            None => vec![],
        }
    }

    /// A piece of background work ended: it is no longer busy; what it brought goes to `apply`, and a
    /// failure to the message line.
    fn settle<T>(&mut self, result: Result<T, String>, apply: impl FnOnce(&mut App, T)) -> Vec<Effect> {
        self.done();
        match result {
            Ok(value) => apply(self, value),
            Err(e) => self.say(Level::Error, e),
        }
        vec![]
    }

    fn on_intake(&mut self, scan: String, result: Result<IntakeOutcome, WorkError>) -> Vec<Effect> {
        self.done();
        match result {
            Ok(outcome) => {
                let message = outcome.message.clone();
                let single = match (outcome.result, &outcome.orders[..]) {
                    (IntakeResult::Matched | IntakeResult::AlreadyReceived, [one]) => Some(one.order_no.clone()),
                    _ => None,
                };
                let order_nos: Vec<OrderNo> =
                    outcome.orders.iter().filter_map(|o| OrderNo::parse(&o.order_no).ok()).collect();
                let level = self.scan.record(outcome);
                self.say(level, message);
                // One key in the parcel: its order opens at once (the card stays for Esc). Several: the
                // card lists them with the picked one's clocks.
                if let Some(raw) = single {
                    return self.open_order(&raw);
                }
                if !order_nos.is_empty() {
                    return self.start(Effect::LoadClocks { order_nos });
                }
            }
            Err(e) if e.unavailable => {
                // Nothing is lost: the scan waits and is sent again when the database returns.
                self.pending_scans.push_back(scan);
                self.database_down = Some(e.message);
                let waiting = self.pending_scans.len();
                self.say(Level::Warn, format!("数据库不可用，已暂存 {waiting} 个扫描，恢复后自动提交"));
            }
            Err(e) => self.say(Level::Error, e.message),
        }
        vec![]
    }

    /// The print queue after a background pass: a new failure is said, and the open order (which shows
    /// its documents' print state) is read again when the queue moved.
    fn on_print_queue(&mut self, result: Result<crate::store::PrintQueueStatus, String>) -> Vec<Effect> {
        let status = match result {
            Ok(status) => status,
            Err(e) => {
                tracing::warn!(error = %e, "print queue run failed");
                return vec![];
            }
        };
        if status.failed > self.print_queue.as_ref().map_or(0, |q| q.failed) {
            let why = status.last_error.clone().unwrap_or_default();
            let text = format!("打印失败：{why}（检查打印机后在命令行运行 keydesk print queue / print reprint）");
            self.say(Level::Error, text);
        }
        let changed = self.print_queue.as_ref() != Some(&status);
        self.print_queue = Some(status);
        if changed && self.screen == Screen::Order && self.prompt.is_none() {
            return self.reload();
        }
        vec![]
    }

    fn on_renew_done(&mut self, order_no: OrderNo, result: Result<String, String>) -> Vec<Effect> {
        self.done();
        let (level, text) = match result {
            Ok(text) => (Level::Info, text),
            Err(e) => (Level::Error, e),
        };
        // Another order's renewal (the operator moved on to the next parcel) is said on the message line.
        if self.order.order_no() != Some(&order_no) {
            self.say(level, format!("订单 {order_no}：{text}"));
        }
        if let Some(r) = self.order.renewals.get_mut(&order_no) {
            r.running = false;
            r.result = Some((level, text));
        }
        // What is on the key changed: say again whose it is and its PIN state.
        let mut effects = self.identify_again();
        if self.order.order_no() == Some(&order_no) {
            effects.extend(self.start(Effect::LoadOrder { order_no }));
        }
        effects
    }

    /// The order shipped: its screen shows the return waybill, and with `print_on_ship` its label and
    /// invoice go to the print queue without a key.
    fn on_shipped(&mut self, result: Result<OrderDetail, String>) -> Vec<Effect> {
        let mut shipped = None;
        self.settle(result, |app, detail| {
            shipped = Some(detail.order.order_no.clone());
            let waybill = detail.order.outbound_waybill.as_ref().map(|w| w.to_string()).unwrap_or_default();
            app.say(Level::Info, format!("已发货，寄回运单 {waybill}"));
            app.order.detail = Some(detail);
            app.screen = Screen::Order;
        });
        match shipped {
            Some(order_no) if self.print_on_ship => {
                self.say(Level::Info, "已发货，正在生成并打印面单和发票…");
                self.start(Effect::Print { order_no })
            }
            _ => vec![],
        }
    }

    /// The PIN prompt opens on its own when the open order waits for renewal and the key in the reader
    /// is its own with a PIN that is neither locked nor on its final try (a final try is the operator's
    /// call, with F10). Offered once per order and key.
    fn offer_pin(&mut self) -> Vec<Effect> {
        if self.screen != Screen::Order || self.prompt.is_some() || self.help {
            return vec![];
        }
        let Some(d) = &self.order.detail else { return vec![] };
        let order_no = d.order.order_no.clone();
        if !matches!(d.order.status, Status::Received | Status::Renewing) || self.order.renewals.contains_key(&order_no)
        {
            return vec![];
        }
        let Some((reader, atr)) = self.reader.holding(&d.order) else { return vec![] };
        let offer = (order_no, reader, atr);
        if self.pin_offered.as_ref() == Some(&offer) {
            return vec![];
        }
        match self.reader.verdict(&d.order) {
            KeyVerdict::Matches { pin, certificate_matches: true, .. } if !pin.locked && !pin.final_try => {}
            _ => return vec![],
        }
        self.pin_offered = Some(offer);
        self.open_prompt(Action::Renew)
    }

    /// The database went away or came back; scans kept meanwhile are sent again.
    fn on_database(&mut self, up: bool, detail: String) -> Vec<Effect> {
        if !up {
            self.database_down = Some(detail);
            return vec![];
        }
        if self.database_down.take().is_some() {
            self.say(Level::Info, "数据库已恢复");
        }
        let mut effects = Vec::new();
        while let Some(scan) = self.pending_scans.pop_front() {
            effects.extend(self.start(Effect::Intake { scan }));
        }
        effects
    }

    /// Reloads what the current screen shows.
    fn reload(&mut self) -> Vec<Effect> {
        match self.screen {
            Screen::Board => self.load_board(),
            Screen::Order => match self.order.order_no().cloned() {
                Some(order_no) => self.start(Effect::LoadOrder { order_no }),
                None => vec![],
            },
            Screen::Search => self.start(Effect::LoadUnmatched),
            _ => vec![],
        }
    }

    fn on_key(&mut self, key: KeyEvent, at: Instant) -> Vec<Effect> {
        if key.kind != ratatui::crossterm::event::KeyEventKind::Press {
            return vec![];
        }
        if self.screen == Screen::SignIn {
            return self.on_signin_key(key);
        }
        if self.prompt.is_some() {
            return self.on_prompt_key(key, at);
        }
        if let Some(action) = self.keymap.action_for(&key) {
            return self.on_action(action);
        }
        if self.help {
            self.help = false;
            return vec![];
        }
        match key.code {
            KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                self.detector.char_at(at);
                if self.screen == Screen::Search {
                    self.search.input.push(c);
                } else if self.ships_on_scan() {
                    // A renewed order's screen keeps the scan: its return waybill ships it.
                    self.scan.input.push(c);
                } else {
                    // The scan field is always ready: typing anywhere else goes to it.
                    if self.screen != Screen::Scan {
                        self.screen = Screen::Scan;
                    }
                    self.scan.input.push(c);
                }
                vec![]
            }
            KeyCode::Backspace => {
                match self.screen {
                    Screen::Search => self.search.input.pop(),
                    _ => self.scan.input.pop(),
                };
                vec![]
            }
            KeyCode::Enter => self.on_enter(at),
            KeyCode::Up => self.move_selection(-1),
            KeyCode::Down => self.move_selection(1),
            KeyCode::PageUp => self.move_selection(-10),
            KeyCode::PageDown => self.move_selection(10),
            _ => vec![],
        }
    }

    fn on_enter(&mut self, at: Instant) -> Vec<Effect> {
        let was_scan = self.detector.enter_at(at);
        match self.screen {
            Screen::Search if was_scan => {
                // A scanner burst while searching is a parcel, not a search.
                let scan = std::mem::take(&mut self.search.input);
                self.screen = Screen::Scan;
                self.start(Effect::Intake { scan })
            }
            Screen::Search => match self.search.enter() {
                Some(effect) => self.start(effect),
                None => vec![],
            },
            Screen::Board => match self.board.picked() {
                Some(raw) => self.open_order(&raw),
                None => vec![],
            },
            Screen::Order if self.ships_on_scan() && !self.scan.input.trim().is_empty() => {
                let scan = std::mem::take(&mut self.scan.input).trim().to_string();
                let Some(order_no) = self.order.order_no().cloned() else { return vec![] };
                self.say(Level::Info, format!("扫描 {scan}：发货中…"));
                self.start(Effect::ScanOnOrder { order_no, scan })
            }
            _ => {
                let scan = std::mem::take(&mut self.scan.input);
                if scan.trim().is_empty() {
                    // Enter on an empty field opens the picked order of the last scan.
                    return match self.scan.picked() {
                        Some(raw) => self.open_order(&raw),
                        None => vec![],
                    };
                }
                self.screen = Screen::Scan;
                if self.database_down.is_some() {
                    self.pending_scans.push_back(scan);
                    self.say(Level::Warn, format!("数据库不可用，已暂存 {} 个扫描", self.pending_scans.len()));
                    return vec![];
                }
                self.start(Effect::Intake { scan })
            }
        }
    }

    /// The open order is renewed and waits for its return waybill: a scan on its screen ships it.
    fn ships_on_scan(&self) -> bool {
        self.screen == Screen::Order && self.order.detail.as_ref().is_some_and(|d| d.order.status == Status::Renewed)
    }

    fn move_selection(&mut self, delta: isize) -> Vec<Effect> {
        match self.screen {
            Screen::Search => self.search.move_by(delta),
            Screen::Board => self.board.move_by(delta),
            Screen::Scan => self.scan.move_by(delta),
            _ => {}
        }
        vec![]
    }

    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        self.message = None;
        match action {
            Action::Help => {
                self.help = !self.help;
                vec![]
            }
            Action::Quit => {
                self.quit = true;
                vec![Effect::Quit]
            }
            Action::Back => {
                if self.help {
                    self.help = false;
                } else {
                    self.screen = Screen::Scan;
                    self.order.revealed = false;
                    self.detector.reset();
                }
                vec![]
            }
            Action::Scan => {
                self.screen = Screen::Scan;
                vec![]
            }
            Action::Search => {
                self.screen = Screen::Search;
                self.start(Effect::LoadUnmatched)
            }
            Action::Board => {
                self.screen = Screen::Board;
                self.load_board()
            }
            Action::Refresh => self.reload(),
            Action::Hold | Action::Release | Action::Cancel | Action::Ship | Action::Renew => self.open_prompt(action),
            Action::Abandon => self.open_abandon_prompt(),
            Action::Print => match (&self.order.detail, self.screen) {
                (Some(d), Screen::Order) if d.order.outbound_waybill.is_some() => {
                    let order_no = d.order.order_no.clone();
                    self.say(Level::Info, "正在生成并打印面单和发票…");
                    self.start(Effect::Print { order_no })
                }
                (Some(_), Screen::Order) => {
                    self.say(Level::Warn, "请先发货（F9）扫描寄回运单，再打印面单和发票");
                    vec![]
                }
                _ => vec![],
            },
            Action::Report if self.screen == Screen::Board => {
                self.say(Level::Info, "正在生成上周报表…");
                self.start(Effect::ExportReport)
            }
            Action::Report => {
                self.say(Level::Warn, "请在看板（F4）上导出上周报表");
                vec![]
            }
            Action::Reveal => match (&self.order.detail, self.screen) {
                (Some(d), Screen::Order) if !self.order.revealed => {
                    let order_no = d.order.order_no.clone();
                    self.start(Effect::Reveal { order_no })
                }
                _ => vec![],
            },
        }
    }

    fn open_prompt(&mut self, action: Action) -> Vec<Effect> {
        let Some(d) = self.order.detail.as_ref().filter(|_| self.screen == Screen::Order) else {
            self.say(Level::Warn, "请先打开一个订单");
            return vec![];
        };
        let (title, change, hold_reason) = match action {
            Action::Hold => ("挂起订单", Change::Hold { reason: HoldReason::Other, resume_to: None }, Some(0)),
            Action::Release => ("解除挂起", Change::Release, None),
            Action::Ship => ("发货：扫描寄回运单（留空则向顺丰下单）", Change::MoveTo(Status::Shipped), None),
            Action::Renew => ("续签：输入 KEY 的 PIN", Change::MoveTo(Status::Renewing), None),
            _ => ("取消订单", Change::MoveTo(Status::Cancelled), None),
        };
        if action == Action::Renew && self.order.renewals.get(&d.order.order_no).is_some_and(|r| r.running) {
            self.say(Level::Warn, "本订单的续签正在进行");
            return vec![];
        }
        // Ask the domain first, so a change that cannot succeed is refused before any typing. A
        // renewal already under way (renewing) resumes.
        let probe_reason = "-";
        let resumes = action == Action::Renew && d.order.status == Status::Renewing;
        if let (false, Err(e)) = (resumes, d.order.plan(&change, probe_reason)) {
            self.say(Level::Error, e.to_string());
            return vec![];
        }
        // Another order's key, or a locked PIN: refused before a PIN try is spent.
        if let Some(refusal) = (action == Action::Renew).then(|| self.reader.verdict(&d.order).refusal()).flatten() {
            self.say(Level::Error, refusal);
            return vec![];
        }
        let input = match action {
            Action::Renew => PromptInput::Pin { pin: Pin::default() },
            Action::Ship => PromptInput::Waybill { text: String::new() },
            _ => PromptInput::Reason { change, text: String::new(), hold_reason },
        };
        self.prompt = Some(Prompt { title: title.into(), order_no: d.order.order_no.clone(), input });
        vec![]
    }

    fn identify_again(&mut self) -> Vec<Effect> {
        self.reader
            .reidentify()
            .into_iter()
            .map(|(reader, atr, module)| Effect::Identify { reader, atr, module })
            .collect()
    }

    /// 放弃续签 on an order whose renewal is under way: the reason first, then the PIN.
    fn open_abandon_prompt(&mut self) -> Vec<Effect> {
        let Some(d) = self.order.detail.as_ref().filter(|_| self.screen == Screen::Order) else {
            self.say(Level::Warn, "请先打开一个订单");
            return vec![];
        };
        if self.order.renewals.get(&d.order.order_no).is_some_and(|r| r.running) {
            self.say(Level::Warn, "续签正在进行，结束后才能放弃");
            return vec![];
        }
        if d.order.status != Status::Renewing {
            self.say(Level::Error, format!("订单状态为「{}」，没有进行中的续签任务可放弃", d.order.status.label()));
            return vec![];
        }
        let title = "放弃续签：填写原因（移除任务在 KEY 上生成的对象，原证书保留）".to_string();
        self.prompt = Some(Prompt {
            title,
            order_no: d.order.order_no.clone(),
            input: PromptInput::AbandonReason { text: String::new() },
        });
        vec![]
    }

    fn on_prompt_key(&mut self, key: KeyEvent, at: Instant) -> Vec<Effect> {
        let Some(prompt) = self.prompt.as_mut() else { return vec![] };
        match key.code {
            KeyCode::Esc => {
                self.prompt = None;
                vec![]
            }
            KeyCode::Up | KeyCode::Down if prompt.hold_reason().is_some() => {
                prompt.move_selection(if key.code == KeyCode::Up { -1 } else { 1 });
                vec![]
            }
            KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                self.detector.char_at(at);
                prompt.push(c);
                vec![]
            }
            KeyCode::Backspace => {
                prompt.pop();
                vec![]
            }
            KeyCode::Enter => {
                let burst = self.detector.enter_at(at);
                let Some(prompt) = self.prompt.take() else { return vec![] };
                // The PIN prompt opens on its own: a parcel scanned while it is open must not be sent
                // to the key as a PIN (a wrong try spent). A scanner's burst there is a scan.
                if burst && prompt.is_pin() {
                    let scan = prompt.into_scan().unwrap_or_default();
                    self.screen = Screen::Scan;
                    self.say(Level::Warn, "PIN 输入框收到扫码枪输入：已按扫描处理，未提交给 KEY");
                    return self.start(Effect::Intake { scan });
                }
                match prompt.submit() {
                    Submit::Again { prompt, warning } => {
                        self.say(Level::Warn, warning);
                        self.prompt = Some(prompt);
                        vec![]
                    }
                    Submit::Next(prompt) => {
                        self.prompt = Some(prompt);
                        vec![]
                    }
                    Submit::Change { order_no, change, reason } => {
                        self.start(Effect::Change { order_no, change, reason })
                    }
                    // An empty waybill books the shipment with the configured courier (SF).
                    Submit::Ship { order_no, waybill } => self.start(Effect::Ship { order_no, waybill }),
                    Submit::Renew { order_no, pin } => {
                        let progress = RenewProgress { running: true, ..RenewProgress::default() };
                        self.order.renewals.insert(order_no.clone(), progress);
                        self.start(Effect::Renew { order_no, pin })
                    }
                    Submit::Abandon { order_no, reason, pin } => {
                        self.say(Level::Info, "正在放弃续签…");
                        self.start(Effect::Abandon { order_no, reason, pin })
                    }
                }
            }
            _ => vec![],
        }
    }

    fn on_signin_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if self.signin.busy {
            return vec![];
        }
        if let Some(Action::Quit) = self.keymap.action_for(&key) {
            self.quit = true;
            return vec![Effect::Quit];
        }
        match self.signin.on_key(key) {
            Some(effect) => self.start(effect),
            None => vec![],
        }
    }
}
