//! The command line: clap commands, each a thin call into `ops` or the store that prints text for
//! people or `--json` for scripts, and returns an exit code from `exit.rs`.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod calendar;
pub mod config;
pub mod dev;
mod documents;
pub mod exit;
pub mod logging;
pub mod services;
mod token;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::domain::order::Change;
use crate::domain::{mask, HoldReason, Order, OrderNo, Status};
use config::{Config, ConfigSource};

use crate::ops::intake::local;
use crate::ops::{self, OpsError};
use crate::store::{self, Actor, ListQuery, Store};

#[derive(Debug, Parser)]
#[command(name = "keydesk", version, about = "阳光七采 UKey 寄回续签工作台 — the UKey mail-back renewal desk")]
pub struct Cli {
    /// Configuration file (else $KEYDESK_CONFIG, else ./keydesk.toml, else built-in defaults)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The operator making changes, recorded in the audit log
    #[arg(long, global = true, env = "KEYDESK_OPERATOR", value_name = "NAME")]
    pub operator: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the desk terminal (the default); without a terminal it lists the open orders
    Desk,
    /// Database maintenance
    #[command(subcommand)]
    Db(DbCommand),
    /// Load the platform's export of orders
    #[command(subcommand)]
    Import(ImportCommand),
    /// Synthetic data for benchmarks
    #[command(subcommand)]
    Fixtures(FixturesCommand),
    /// Look at and change orders
    #[command(subcommand)]
    Order(OrderCommand),
    /// Receive a parcel: the desk's scan as a command
    Intake(IntakeArgs),
    /// Parcels no order claims
    Unmatched(JsonFlag),
    /// Ship a renewed key back: record its outbound SF waybill and move the order to shipped, once
    Ship {
        order_no: String,
        /// The return waybill scanned from the label SF's client printed; without it the shipment is
        /// booked with the configured courier (courier.backend = "sf")
        #[arg(long, value_name = "SF…")]
        waybill: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Draw an order's return label (its outbound SF waybill, or --waybill); write it and/or print it
    Label {
        order_no: String,
        /// The SF waybill for the label when the order has none recorded (a label never allocates one)
        #[arg(long, value_name = "SF…")]
        waybill: Option<String>,
        /// Write the PDF here
        #[arg(long, value_name = "FILE.pdf")]
        out: Option<PathBuf>,
        /// Queue it on the label printer and print now
        #[arg(long)]
        print: bool,
        #[arg(long)]
        json: bool,
    },
    /// Issue an order's VAT e-invoice (once; later calls return the stored one), or attach the official one
    Invoice(InvoiceArgs),
    /// The durable print queue
    #[command(subcommand)]
    Print(PrintCommand),
    /// Desk operators
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Working-day deadlines: one computation, the board of open orders, the met/missed report
    #[command(subcommand)]
    Sla(SlaCommand),
    /// The manager's report for a period: received, renewed, shipped, clocks met/missed/open, turnaround,
    /// holds, per day and per operator, every missed clock, unmatched parcels; text, JSON, .xlsx or .csv
    Report(ReportArgs),
    /// Holiday calendars
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Show the effective configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Serve the member endpoint (order status for members, over HTTP)
    Serve(ServeArgs),
    /// SF courier routes: the push receiver SF posts route events to
    #[command(subcommand)]
    Routes(RoutesCommand),
    /// Run the background work until stopped (SIGTERM, Ctrl-C): the print queue and member notices; one per site beside the desks
    Worker(WorkerArgs),
    /// The member notice outbox: every notice (newest first), or only the failed ones
    Notices(NoticesArgs),
    /// Card readers (PC/SC)
    #[command(subcommand)]
    Reader(ReaderCommand),
    /// The member's key (PKCS#11)
    #[command(subcommand)]
    Token(TokenCommand),
    /// Renew the certificate on the key in the reader for ORDER (journaled; run again to continue)
    Renew(RenewArgs),
    /// Demo and test helpers: a demo CA and SoftHSM keys that match demo orders
    #[command(subcommand)]
    Dev(dev::DevCommand),
    /// Internal: the token worker process (one per job; requests on stdin, answers on stdout)
    #[command(hide = true)]
    TokenWorker {
        #[arg(long)]
        module: String,
    },
}

#[derive(Debug, Args)]
pub struct NoticesArgs {
    /// Only the notices given up (refused for good, or out of attempts)
    #[arg(long)]
    pub failed: bool,
    /// At most this many
    #[arg(long, default_value_t = 200)]
    pub limit: i64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Run one pass and exit (1 when a job failed for good)
    #[arg(long)]
    pub once: bool,
    /// Seconds between passes
    #[arg(long, value_name = "SECS", default_value_t = crate::worker::PASS_INTERVAL.as_secs())]
    pub interval: u64,
    /// One JSON object per pass on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// First day of the period (Beijing date)
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: chrono::NaiveDate,
    /// Last day of the period, inclusive
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: chrono::NaiveDate,
    /// Write the report to FILE.xlsx (a workbook with a chart) or FILE.csv instead of printing it
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The report as JSON on stdout (with --out: the file written, and the report)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum RoutesCommand {
    /// Receive SF's route pushes on a listener of its own (routes.listen, routes.secret_path, routes.allow)
    Serve {
        /// Address and port to listen on (else routes.listen from the configuration)
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (else member.listen from the configuration)
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// When a clock started by these events is due
    Due {
        /// return (ship the key back) or invoice (issue the e-invoice)
        #[arg(long)]
        policy: crate::sla::Policy,
        /// A start event (RFC 3339); the clock starts at the latest one
        #[arg(long = "event", value_name = "TIME", required = true)]
        events: Vec<String>,
        /// A hold as FROM/TO (RFC 3339); FROM/ while still on hold
        #[arg(long = "pause", value_name = "FROM/TO")]
        pauses: Vec<String>,
        /// Evaluate at this time instead of now
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Every open clock by urgency, with counts per state
    Board {
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Met and missed per day and per operator for clocks stopped between two dates (inclusive)
    Report {
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: chrono::NaiveDate,
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: chrono::NaiveDate,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// The loaded years and their sources; warns from 1 November when next year is missing
    Check {
        #[arg(long)]
        json: bool,
    },
    /// Read the State Council's holiday notice (国务院办公厅关于20XX年部分节假日安排的通知, as text) and
    /// show the year it describes; with --write, save it as that year's calendar in sla.calendar_dir
    Import {
        /// The notice as UTF-8 text (title, items such as 一、元旦：…, and the date under the signature)
        file: PathBuf,
        /// Write holidays-cn-YYYY.json into sla.calendar_dir (otherwise only show what was found)
        #[arg(long)]
        write: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReaderCommand {
    /// Print reader and card events as they happen, and identify each inserted key and its order
    Watch {
        #[arg(long)]
        json: bool,
        /// Only report reader and card events
        #[arg(long)]
        no_identify: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Token info, PIN flags and public objects (no PIN needed)
    Show {
        /// Only the token with this serial (the order's key编号)
        #[arg(long)]
        serial: Option<String>,
        /// PKCS#11 module (else chosen by the card's ATR, else token.module)
        #[arg(long)]
        module: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct RenewArgs {
    pub order_no: String,
    /// Read the PIN from the first line of stdin instead of asking (masked)
    #[arg(long)]
    pub pin_stdin: bool,
    /// PKCS#11 module (else chosen by the card's ATR, else token.module)
    #[arg(long)]
    pub module: Option<String>,
    #[arg(long)]
    pub json: bool,
    /// End the order's running job on purpose (放弃续签) instead: the job's objects are removed from
    /// the key (PIN asked), the old certificate stays, and a new renewal can start
    #[arg(long, requires = "reason")]
    pub abandon: bool,
    /// Why the job is abandoned (audited)
    #[arg(long, requires = "abandon")]
    pub reason: Option<String>,
    /// With --abandon: the key cannot be had; end the job without touching the key
    #[arg(long, requires = "abandon")]
    pub without_key: bool,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending migrations (also done at start-up unless database.migrate_on_start = false)
    Migrate,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a JSON array of orders, all or nothing
    Orders {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum FixturesCommand {
    /// Fill the database with N synthetic orders
    Generate {
        #[arg(long, value_name = "N")]
        orders: u64,
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrderCommand {
    /// One order with its receipts and audit trail
    Show {
        order_no: String,
        #[arg(long)]
        json: bool,
    },
    /// Orders, optionally of one status
    List {
        #[arg(long, value_name = "STATUS")]
        status: Option<Status>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Find orders by order number, waybill, key serial, account, phone tail, name or company prefix
    Search {
        text: String,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Put an order on hold (异常挂起)
    Hold {
        order_no: String,
        #[arg(long, value_name = "REASON")]
        reason: HoldReason,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        json: bool,
    },
    /// Release a hold, back to the status it was taken from
    Release {
        order_no: String,
        #[arg(long)]
        note: String,
        #[arg(long)]
        json: bool,
    },
    /// Cancel an unpaid order
    Cancel {
        order_no: String,
        #[arg(long)]
        note: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct IntakeArgs {
    /// The scanned or typed waybill number
    pub scan: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct InvoiceArgs {
    #[command(subcommand)]
    pub attach: Option<InvoiceCommand>,
    /// The order (issues its invoice if it has none yet)
    pub order_no: Option<String>,
    /// Write the stored PDF here
    #[arg(long, value_name = "FILE.pdf")]
    pub out: Option<PathBuf>,
    /// Queue it on the invoice printer and print now
    #[arg(long)]
    pub print: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum InvoiceCommand {
    /// Store the official invoice PDF the tax platform returned, with its 20-digit number
    Attach {
        order_no: String,
        file: PathBuf,
        #[arg(long, value_name = "N")]
        number: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PrintCommand {
    /// Jobs waiting or failed, and those printed in the last 24 hours
    Queue(JsonFlag),
    /// Send the due jobs now (exit 1 if any failed)
    Retry(JsonFlag),
    /// Print a job's document again as a new job flagged reprint (a label is drawn again, marked 重印)
    Reprint {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Add an operator; the password or PIN is asked for (or read from stdin)
    Add {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the configuration in effect, as TOML
    Show,
}

/// An error on its way to the terminal, with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl From<OpsError> for Failure {
    fn from(e: OpsError) -> Self {
        Failure { code: exit::of_ops(&e), message: e.to_string() }
    }
}

impl From<store::StoreError> for Failure {
    fn from(e: store::StoreError) -> Self {
        OpsError::from(e).into()
    }
}

pub(crate) fn fail(message: impl Into<String>) -> Failure {
    Failure { code: exit::FAILURE, message: message.into() }
}

pub async fn run(cli: Cli, config: Config, source: ConfigSource) -> Result<u8, Failure> {
    let command = cli.command.unwrap_or(Command::Desk);
    let clock = crate::clock::Clock::from_env().map_err(|e| Failure { code: exit::USAGE, message: e })?;
    if !clock.is_system() {
        tracing::warn!(now = %clock.now(), "the clock is pinned by {} (tests and demos only)", crate::clock::NOW_VAR);
    }
    if let Command::Config(ConfigCommand::Show) = command {
        println!("# from {source}");
        print!("{}", toml::to_string_pretty(&config.shown()).map_err(|e| fail(e.to_string()))?);
        return Ok(exit::OK);
    }
    match command {
        Command::Sla(SlaCommand::Due { policy, events, pauses, at, json }) => {
            return sla_due(&config, policy, &events, &pauses, at.as_deref(), json, &clock)
        }
        Command::Calendar(CalendarCommand::Check { json }) => return calendar::check(&config, json, &clock),
        Command::Calendar(CalendarCommand::Import { file, write, json }) => {
            // Moved deadlines are recorded by the operator who imports, or as the import itself.
            let operator = cli.operator.clone().unwrap_or_else(|| "calendar-import".to_string());
            let actor = Actor { operator, desk: config.desk.name.clone() };
            return calendar::import(&config, &file, write, json, actor, &clock).await;
        }
        Command::Serve(args) => return serve(&config, args, clock).await,
        Command::Routes(RoutesCommand::Serve { listen }) => return routes_serve(&config, listen, clock).await,
        _ => {}
    }
    let command = match command {
        Command::TokenWorker { module } => {
            crate::token::worker::serve(&module).map_err(|e| fail(format!("token worker: {e}")))?;
            return Ok(exit::OK);
        }
        Command::Dev(cmd) => return dev::run(cmd, &config, &clock).await.map_err(fail),
        other => other,
    };
    let store = open_store(&config).await?;
    let services = services::build(&config, store.clone(), clock.clone());
    let actor = |default: Option<&str>| -> Result<Actor, Failure> {
        let operator = cli.operator.clone().or(default.map(str::to_string)).ok_or_else(|| Failure {
            code: exit::USAGE,
            message: "请用 --operator NAME 或 KEYDESK_OPERATOR 指明操作员 (an operator is required for changes)".into(),
        })?;
        Ok(Actor { operator, desk: config.desk.name.clone() })
    };
    match command {
        Command::Desk if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() => {
            crate::desk::run(Arc::new(services), &config.desk).await.map_err(|e| fail(e.to_string()))?;
            Ok(exit::OK)
        }
        Command::Desk => desk_overview(store.as_ref()).await,
        Command::Db(DbCommand::Migrate) => {
            store.migrate().await?;
            eprintln!("数据库已是最新 (migrations applied)");
            Ok(exit::OK)
        }
        Command::Import(ImportCommand::Orders { file, json }) => {
            let text = std::fs::read_to_string(&file).map_err(|e| fail(format!("{}: {e}", file.display())))?;
            let actor = actor(Some("import"))?;
            if actor.operator != "import" {
                ops::operators::require_operator(store.as_ref(), &actor.operator).await?;
            }
            let summary = ops::import::import_orders(store.as_ref(), &text, &actor, &clock).await?;
            if json {
                print_json(&summary)?;
            } else {
                println!("导入完成：新增 {} 个订单，更新 {} 个订单", summary.inserted, summary.updated);
            }
            Ok(exit::OK)
        }
        Command::Fixtures(FixturesCommand::Generate { orders, seed }) => {
            generate(store.as_ref(), orders, seed, &clock).await
        }
        Command::Order(cmd) => order_command(store.as_ref(), cmd, actor, &clock).await,
        Command::Intake(args) => {
            let actor = actor(None)?;
            ops::operators::require_operator(store.as_ref(), &actor.operator).await?;
            let outcome = ops::intake::intake(store.as_ref(), &args.scan, &actor, &clock).await?;
            if args.json {
                print_json(&outcome)?;
            } else {
                println!("{}", outcome.message);
                for o in &outcome.orders {
                    println!(
                        "  {}  {}  {}  {}  KEY {}  证书到期 {}  {}",
                        o.order_no,
                        o.status_label,
                        o.company,
                        o.holder,
                        o.key_serial,
                        local(o.cert_not_after),
                        if o.paid { "已支付" } else { "未支付" }
                    );
                }
            }
            Ok(exit::of_intake(outcome.result))
        }
        Command::Ship { order_no, waybill, json } => {
            let actor = actor(None)?;
            ops::operators::require_operator(store.as_ref(), &actor.operator).await?;
            let no = OrderNo::parse(&order_no).map_err(|e| Failure { code: exit::REFUSED, message: e.to_string() })?;
            let (order, fresh) = match ops::book::ship_with_courier(&services, &no, waybill.as_deref(), &actor).await? {
                ops::ship::Shipped::Now(o) => (o, true),
                ops::ship::Shipped::Before(o) => (o, false),
            };
            if json {
                print_json(&serde_json::json!({ "shipped_now": fresh, "order": OrderView::of(&order) }))?;
            } else if fresh {
                println!(
                    "订单 {} 已发货，运单 {}",
                    order.order_no,
                    order.outbound_waybill.as_ref().map(|w| w.as_str()).unwrap_or("-")
                );
            } else {
                println!("订单 {} 此前已用这个运单发货，未做更改", order.order_no);
            }
            Ok(exit::OK)
        }
        Command::Unmatched(JsonFlag { json }) => {
            let parcels = ops::orders::unmatched(store.as_ref()).await?;
            if json {
                print_json(&parcels)?;
            } else if parcels.is_empty() {
                println!("没有无主包裹");
            } else {
                for p in parcels {
                    println!("{}  {}  {}  {}", p.waybill, local(p.scanned_at), p.operator, p.desk);
                }
            }
            Ok(exit::OK)
        }
        Command::Operator(OperatorCommand::Add { name, password_stdin }) => {
            let secret = read_secret(password_stdin)?;
            let record = ops::operators::add_operator(store.as_ref(), &name, &secret, &clock).await?;
            eprintln!("已添加操作员 {}", record.name);
            Ok(exit::OK)
        }
        Command::Sla(SlaCommand::Board { at, limit, json }) => {
            let rules = services.clock_rules().map_err(fail)?;
            let now = sla_instant(at.as_deref(), &clock)?;
            let board =
                ops::sla::board(store.as_ref(), &rules, now, crate::sla::board::BoardWindow::first(limit)).await?;
            if json {
                print_json(&board)?;
            } else {
                print!("{board}");
            }
            Ok(exit::OK)
        }
        Command::Sla(SlaCommand::Report { from, to, json }) => {
            let rules = services.clock_rules().map_err(fail)?;
            let day_start =
                |d: chrono::NaiveDate| crate::sla::working_time::shanghai_instant(d, 0).with_timezone(&chrono::Utc);
            let Some(end) = to.succ_opt().map(day_start) else {
                return Err(fail("日期超出范围"));
            };
            let start = day_start(from);
            let (report, problems) = ops::sla::report(store.as_ref(), &rules, start, end).await?;
            if json {
                print_json(&serde_json::json!({ "report": report, "problems": problems }))?;
            } else {
                print!("{report}");
                for p in &problems {
                    eprintln!("无法计算：{p}");
                }
            }
            Ok(if problems.is_empty() { exit::OK } else { exit::FAILURE })
        }
        // Answered above, before the database was opened.
        Command::Sla(SlaCommand::Due { .. })
        | Command::Calendar(_)
        | Command::Config(_)
        | Command::Serve(_)
        | Command::Routes(_)
        | Command::TokenWorker { .. }
        | Command::Dev(_) => Ok(exit::OK),
        Command::Reader(ReaderCommand::Watch { json, no_identify }) => {
            token::reader_watch(&services, json, !no_identify).await.map(|_| exit::OK)
        }
        Command::Token(TokenCommand::Show { serial, module, json }) => {
            token::token_show(&services, serial.as_deref(), module, json).await.map(|_| exit::OK)
        }
        Command::Label { order_no, waybill, out, print, json } => {
            let actor = actor(None)?;
            ops::operators::require_operator(store.as_ref(), &actor.operator).await?;
            documents::label(&services, &actor, &order_no, waybill.as_deref(), out, print, json).await
        }
        Command::Invoice(InvoiceArgs {
            attach: Some(InvoiceCommand::Attach { order_no, file, number, json }), ..
        }) => {
            let actor = actor(None)?;
            ops::operators::require_operator(store.as_ref(), &actor.operator).await?;
            documents::attach(&services, &actor, &order_no, &file, &number, json).await
        }
        Command::Invoice(InvoiceArgs { attach: None, order_no, out, print, json }) => {
            let order_no = order_no.ok_or_else(|| Failure {
                code: exit::USAGE,
                message: "请指明订单号：keydesk invoice ORDER --out FILE.pdf".into(),
            })?;
            let actor = actor(None)?;
            ops::operators::require_operator(store.as_ref(), &actor.operator).await?;
            documents::invoice(&services, &actor, &order_no, out, print, json).await
        }
        Command::Worker(args) => worker(&services, args).await,
        Command::Notices(args) => notices(&services, args).await,
        Command::Report(args) => report(&services, args).await,
        Command::Print(PrintCommand::Queue(JsonFlag { json })) => documents::queue(&services, json).await,
        Command::Print(PrintCommand::Retry(JsonFlag { json })) => documents::retry(&services, json).await,
        Command::Print(PrintCommand::Reprint { id, json }) => {
            let actor = actor(None)?;
            ops::operators::require_operator(store.as_ref(), &actor.operator).await?;
            documents::reprint(&services, &actor, id, json).await
        }
        Command::Renew(args) => {
            let actor = actor(None)?;
            ops::operators::require_operator(store.as_ref(), &actor.operator).await?;
            token::renew(&services, args, &actor).await
        }
    }
}

/// `keydesk serve`: migrate with the desk's login when it is also the endpoint's (else the desk must
/// have migrated), then serve with least privilege until Ctrl-C or SIGTERM.
async fn serve(config: &Config, args: ServeArgs, clock: crate::clock::Clock) -> Result<u8, Failure> {
    let settings = config.member.clone();
    let listen = match args.listen {
        Some(addr) => addr,
        None => settings.listen.parse().map_err(|_| fail("member.listen is not an address and port"))?,
    };
    if config.member.database_url.is_none() && config.database.migrate_on_start {
        open_store(config).await?;
    }
    let store = store::open_member(
        &config.member_database_url(),
        settings.max_connections,
        Duration::from_secs(config.database.connect_timeout_secs),
        &settings.pg_role,
    )
    .await?;
    let running = crate::member::start(listen, crate::member::App::new(store, settings, clock_rules(config)?, clock))
        .await
        .map_err(|e| fail(format!("cannot listen on {listen}: {e}")))?;
    eprintln!("keydesk serve: listening on http://{}", running.addr);
    tracing::info!(addr = %running.addr, "member endpoint listening");
    shutdown_signal().await;
    eprintln!("keydesk serve: stopping");
    running.stop().await;
    Ok(exit::OK)
}

/// `keydesk notices [--failed] [--json]`: the outbox, newest first.
async fn notices(services: &crate::services::Services, args: NoticesArgs) -> Result<u8, Failure> {
    let list = services.store().notices(args.failed, args.limit.max(1)).await.map_err(ops::OpsError::from)?;
    if args.json {
        print_json(&list)?;
        return Ok(exit::OK);
    }
    if list.is_empty() {
        println!("{}", if args.failed { "没有发送失败的通知" } else { "没有通知" });
    }
    for n in &list {
        let when = n.sent_at.unwrap_or(n.created_at).with_timezone(&crate::domain::BEIJING).format("%m-%d %H:%M");
        println!(
            "{:>6}  {}  {}  {}  {}  {}  尝试 {}{}",
            n.id,
            n.order_no,
            n.kind.label(),
            n.channel.label(),
            n.state.label(),
            when,
            n.attempts,
            n.last_error.as_deref().map(|e| format!("  {e}")).unwrap_or_default()
        );
    }
    Ok(exit::OK)
}

/// `keydesk routes serve`: SF's route pushes, on their own listener, until Ctrl-C or SIGTERM.
async fn routes_serve(
    config: &Config,
    listen: Option<std::net::SocketAddr>,
    clock: crate::clock::Clock,
) -> Result<u8, Failure> {
    let settings = &config.routes;
    let listen = match listen {
        Some(addr) => addr,
        None => settings.listen.parse().map_err(|_| fail("routes.listen is not an address and port"))?,
    };
    let store = open_store(config).await?;
    let receiver = crate::route_push::Receiver::new(settings, config.courier.check_word.clone(), store, clock)
        .map_err(|e| Failure { code: exit::USAGE, message: e.to_string() })?;
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|e| fail(format!("cannot listen on {listen}: {e}")))?;
    eprintln!("keydesk routes serve: listening on {listen} (the secret path is in routes.secret_path)");
    tracing::info!(addr = %listen, "route push receiver listening");
    crate::route_push::serve(listener, Arc::new(receiver), shutdown_signal())
        .await
        .map_err(|e| fail(format!("route push receiver: {e}")))?;
    eprintln!("keydesk routes serve: stopping");
    Ok(exit::OK)
}

/// `keydesk worker`: passes over the queues until stopped, one line (or JSON object) per pass that
/// did something; with `--once`, one pass.
async fn worker(services: &crate::services::Services, args: WorkerArgs) -> Result<u8, Failure> {
    let report = |pass: &crate::worker::Pass| -> Result<(), Failure> {
        let p = &pass.print;
        if args.json {
            return print_json(pass);
        }
        if args.once || !(p.printed.is_empty() && p.retrying.is_empty() && p.failed.is_empty()) {
            let q = &pass.print_queue;
            println!(
                "{}  打印：已打印 {}，等待重试 {}，失败 {}；队列中 {}，今日已打印 {}{}",
                services.clock.now_local().format("%H:%M:%S"),
                p.printed.len(),
                p.retrying.len(),
                p.failed.len(),
                q.queued,
                q.printed_since,
                q.last_error.as_deref().map(|e| format!("；最近错误：{e}")).unwrap_or_default()
            );
        }
        let at = services.clock.now_local().format("%H:%M:%S");
        let n = &pass.notices;
        if args.once || n.sent + n.retrying + n.skipped + n.failed.len() > 0 {
            println!(
                "{at}  通知：已发送 {}，等待重试 {}，未发送 {}，失败 {}",
                n.sent,
                n.retrying,
                n.skipped,
                n.failed.len()
            );
        }
        match &pass.weekly_report {
            Some(crate::worker::WeeklyReport::Written { path, first, last, late }) => {
                println!("{at}  周报：{first} 至 {last} 已写入 {}（逾期 {late} 条）", path.display())
            }
            Some(crate::worker::WeeklyReport::Failed { first, last, message }) => eprintln!(
                "{at}  周报：{first} 至 {last} 未能写入：{message}（{} 分钟后重试）",
                crate::worker::WEEKLY_RETRY.num_minutes()
            ),
            None => {}
        }
        Ok(())
    };
    if args.once {
        let mut weekly = crate::worker::WorkerState::default();
        let policy = crate::outbound::printer::RetryPolicy::default();
        let pass = crate::worker::run_worker_pass(services, &policy, &mut weekly).await?;
        report(&pass)?;
        let weekly_failed = matches!(pass.weekly_report, Some(crate::worker::WeeklyReport::Failed { .. }));
        let ok = pass.print.failed.is_empty() && pass.notices.failed.is_empty() && !weekly_failed;
        return Ok(if ok { exit::OK } else { exit::FAILURE });
    }
    eprintln!("keydesk worker: running every {} s (stop with Ctrl-C or SIGTERM)", args.interval);
    tracing::info!(interval_secs = args.interval, "worker started");
    if let Some(weekly) = services.reports.weekly {
        eprintln!("keydesk worker: 每{weekly}把上周报表写入 {}", services.reports.dir.display());
    }
    let passes = crate::worker::run_worker(services, Duration::from_secs(args.interval.max(1)), |pass| {
        match pass {
            Ok(pass) => {
                if let Err(e) = report(&pass) {
                    tracing::warn!(error = %e.message, "cannot write the pass report");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "worker pass failed; trying again");
                eprintln!("keydesk worker: {e}；稍后重试");
            }
        }
        true
    });
    tokio::select! {
        _ = passes => {}
        _ = shutdown_signal() => eprintln!("keydesk worker: stopping"),
    }
    Ok(exit::OK)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn clock_rules(config: &Config) -> Result<crate::sla::ClockRules, Failure> {
    crate::sla::ClockRules::load(&config.sla).map_err(|e| fail(e.to_string()))
}

fn sla_instant(
    text: Option<&str>,
    clock: &crate::clock::Clock,
) -> Result<chrono::DateTime<chrono::FixedOffset>, Failure> {
    match text {
        Some(t) => crate::sla::due::parse_instant(t).map_err(|e| Failure { code: exit::USAGE, message: e.to_string() }),
        None => Ok(clock.now_local()),
    }
}

fn sla_due(
    config: &Config,
    policy: crate::sla::Policy,
    events: &[String],
    pauses: &[String],
    at: Option<&str>,
    json: bool,
    clock: &crate::clock::Clock,
) -> Result<u8, Failure> {
    let usage = |e: crate::sla::SlaError| Failure { code: exit::USAGE, message: e.to_string() };
    let args = crate::sla::due::DueArgs {
        policy,
        events: events.iter().map(|e| crate::sla::due::parse_instant(e)).collect::<Result<_, _>>().map_err(usage)?,
        pauses: pauses.iter().map(|p| crate::sla::due::parse_pause(p)).collect::<Result<_, _>>().map_err(usage)?,
    };
    let rules = clock_rules(config)?;
    let report =
        crate::sla::due::compute_due(&rules, &args, sla_instant(at, clock)?).map_err(|e| fail(e.to_string()))?;
    if json {
        print_json(&report)?;
    } else {
        print!("{report}");
    }
    Ok(exit::OK)
}

pub(super) async fn open_store(config: &Config) -> Result<Arc<dyn Store>, Failure> {
    let url = config.database_url();
    store::open(
        &url,
        config.database.max_connections,
        Duration::from_secs(config.database.connect_timeout_secs),
        config.database.migrate_on_start,
    )
    .await
    .map_err(Failure::from)
}

async fn order_command(
    store: &dyn Store,
    cmd: OrderCommand,
    actor: impl Fn(Option<&str>) -> Result<Actor, Failure>,
    clock: &crate::clock::Clock,
) -> Result<u8, Failure> {
    let parse_no = |s: &str| OrderNo::parse(s).map_err(|e| Failure { code: exit::REFUSED, message: e.to_string() });
    match cmd {
        OrderCommand::Show { order_no, json } => {
            let no = parse_no(&order_no)?;
            let ops::orders::OrderDetail { order, receipts, audit, notices, .. } =
                ops::orders::detail(store, &no).await?;
            if json {
                print_json(&serde_json::json!({
                    "order": OrderView::of(&order), "receipts": receipts, "audit": audit, "notices": notices
                }))?;
            } else {
                print_order(&order);
                println!("  时间线：");
                for a in audit {
                    println!(
                        "    {}  {:<10} {} → {}  {}  ({}@{})",
                        local(a.at),
                        a.action,
                        a.from_status.as_deref().unwrap_or("-"),
                        a.to_status.as_deref().unwrap_or("-"),
                        a.reason,
                        a.operator,
                        a.desk
                    );
                }
                if !notices.is_empty() {
                    println!("  通知：");
                }
                for n in notices {
                    println!(
                        "    {}  {} {} {}{}",
                        local(n.sent_at.unwrap_or(n.created_at)),
                        n.kind.label(),
                        n.channel.label(),
                        n.state.label(),
                        n.last_error.as_deref().map(|e| format!("（{e}）")).unwrap_or_default()
                    );
                }
            }
            Ok(exit::OK)
        }
        OrderCommand::List { status, limit, json } => {
            let orders = store.list_orders(&ListQuery { status, limit, after_id: 0 }).await?;
            print_orders(&orders, json)?;
            Ok(exit::OK)
        }
        OrderCommand::Search { text, limit, json } => {
            let orders = ops::orders::search(store, &text, limit).await?;
            print_orders(&orders, json)?;
            Ok(if orders.is_empty() && !json { exit::REFUSED } else { exit::OK })
        }
        OrderCommand::Hold { order_no, reason, note, json } => {
            change(
                store,
                &parse_no(&order_no)?,
                Change::Hold { reason, resume_to: None },
                &note,
                actor(None)?,
                json,
                clock,
            )
            .await
        }
        OrderCommand::Release { order_no, note, json } => {
            change(store, &parse_no(&order_no)?, Change::Release, &note, actor(None)?, json, clock).await
        }
        OrderCommand::Cancel { order_no, note, json } => {
            change(store, &parse_no(&order_no)?, Change::MoveTo(Status::Cancelled), &note, actor(None)?, json, clock)
                .await
        }
    }
}

async fn change(
    store: &dyn Store,
    no: &OrderNo,
    change: Change,
    note: &str,
    actor: Actor,
    json: bool,
    clock: &crate::clock::Clock,
) -> Result<u8, Failure> {
    ops::operators::require_operator(store, &actor.operator).await?;
    let order = ops::change::change_order(store, no, &change, note, &actor, clock).await?;
    if json {
        print_json(&OrderView::of(&order))?;
    } else {
        println!("订单 {} 现为「{}」", order.order_no, order.status.label());
    }
    Ok(exit::OK)
}

async fn desk_overview(store: &dyn Store) -> Result<u8, Failure> {
    println!("keydesk 工作台（没有终端，只列出待处理订单）");
    let mut shown = 0;
    for status in [Status::OnHold, Status::Paid, Status::Received, Status::Renewing, Status::Renewed, Status::Shipped] {
        let orders = store.list_orders(&ListQuery { status: Some(status), limit: 1000, after_id: 0 }).await?;
        if orders.is_empty() {
            continue;
        }
        println!("\n{}（{}）", status.label(), orders.len());
        print_orders(&orders, false)?;
        shown += orders.len();
    }
    if shown == 0 {
        println!("没有待处理订单。用 `keydesk import orders FILE.json` 导入订单。");
    }
    Ok(exit::OK)
}

/// `keydesk report`: the period's figures as text or JSON, or written to a workbook or CSV file.
async fn report(services: &crate::services::Services, args: ReportArgs) -> Result<u8, Failure> {
    let usage = |message: String| Failure { code: exit::USAGE, message };
    let period = crate::report::Period::new(args.from, args.to).map_err(usage)?;
    if let Some(path) = &args.out {
        crate::report::FileForm::of_path(path).map_err(usage)?;
    }
    let rules = services.clock_rules().map_err(fail)?;
    let started = Instant::now();
    let show_progress = std::io::stderr().is_terminal();
    if show_progress {
        eprintln!("正在统计 {} …", period.label());
    }
    let report = ops::report::build(services.store(), &rules, period, services.clock.now_local()).await?;
    let problems = report.problems.clone();
    match &args.out {
        Some(path) => {
            if show_progress {
                eprintln!("正在写入 {} …", path.display());
            }
            let written = ops::report::write(report, path)?;
            if args.json {
                print_json(
                    &serde_json::json!({ "path": written.path, "bytes": written.bytes, "report": written.report }),
                )?;
            } else {
                print!("{}", written.report);
                println!("已写入 {}（{} 字节）", written.path.display(), written.bytes);
            }
        }
        None if args.json => print_json(&report)?,
        None => print!("{report}"),
    }
    for p in &problems {
        eprintln!("无法计算：{p}");
    }
    eprintln!("报表用时 {:.1} 秒", started.elapsed().as_secs_f64());
    Ok(if problems.is_empty() { exit::OK } else { exit::FAILURE })
}

async fn generate(store: &dyn Store, count: u64, seed: u64, clock: &crate::clock::Clock) -> Result<u8, Failure> {
    let started = Instant::now();
    let show_progress = std::io::stderr().is_terminal();
    ops::generate::generate(store, seed, 0..count, clock.now(), |done, total| {
        if show_progress {
            eprint!("\r生成订单 {done}/{total}（{:.0}%）", done as f64 * 100.0 / total.max(1) as f64);
        }
    })
    .await?;
    if show_progress {
        eprintln!();
    }
    eprintln!("已生成 {count} 个订单，用时 {:.1} 秒", started.elapsed().as_secs_f64());
    Ok(exit::OK)
}

fn read_secret(from_stdin: bool) -> Result<String, Failure> {
    let secret = if from_stdin || !std::io::stdin().is_terminal() {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| fail(e.to_string()))?;
        s.lines().next().unwrap_or_default().to_string()
    } else {
        let first = rpassword::prompt_password("密码或 PIN：").map_err(|e| fail(e.to_string()))?;
        let again = rpassword::prompt_password("再输入一次：").map_err(|e| fail(e.to_string()))?;
        if first != again {
            return Err(fail("两次输入不一致"));
        }
        first
    };
    Ok(secret)
}

/// An order as the command line shows it: personal data masked.
#[derive(Debug, Serialize)]
pub struct OrderView<'a> {
    pub order_no: &'a str,
    pub platform_order_no: Option<&'a str>,
    pub kind: &'static str,
    pub status: &'static str,
    pub status_label: &'static str,
    pub hold: Option<&'a crate::domain::order::Hold>,
    pub invoice_status: &'static str,
    pub amount: String,
    pub term_years: u32,
    pub company: &'a str,
    pub account: &'a str,
    pub holder: String,
    pub contact_phone: String,
    pub key_serial: &'a str,
    pub cert_serial: &'a str,
    pub cert_not_before: chrono::DateTime<chrono::Utc>,
    pub cert_not_after: chrono::DateTime<chrono::Utc>,
    pub cert_seal: &'static str,
    pub paid_at: Option<chrono::DateTime<chrono::Utc>>,
    pub docs_approved: bool,
    pub inbound_waybill: Option<&'a str>,
    pub received_at: Option<chrono::DateTime<chrono::Utc>>,
    pub received_by: Option<&'a str>,
    pub outbound_waybill: Option<&'a str>,
    pub shipped_at: Option<chrono::DateTime<chrono::Utc>>,
    pub ship_to: String,
}

impl<'a> OrderView<'a> {
    pub fn of(o: &'a Order) -> Self {
        OrderView {
            order_no: o.order_no.as_str(),
            platform_order_no: o.platform_order_no.as_deref(),
            kind: o.kind.code(),
            status: o.status.code(),
            status_label: o.status.label(),
            hold: o.hold.as_ref(),
            invoice_status: o.invoice_status.code(),
            amount: o.amount.to_string(),
            term_years: o.term_years,
            company: &o.company,
            account: &o.account,
            holder: mask::name(&o.holder_name),
            contact_phone: mask::phone(&o.contact_phone),
            key_serial: o.key_serial.as_str(),
            cert_serial: &o.cert.serial,
            cert_not_before: o.cert.not_before,
            cert_not_after: o.cert.not_after,
            cert_seal: o.cert.seal.code(),
            paid_at: o.paid_at,
            docs_approved: o.handler.docs_approved,
            inbound_waybill: o.inbound.waybill.as_deref(),
            received_at: o.received_at,
            received_by: o.received_by.as_deref(),
            outbound_waybill: o.outbound_waybill.as_ref().map(|w| w.as_str()),
            shipped_at: o.shipped_at,
            ship_to: format!(
                "{} {} {}",
                mask::name(&o.ship_to.name),
                mask::phone(&o.ship_to.phone),
                mask::address(&o.ship_to.region, &o.ship_to.address)
            ),
        }
    }
}

fn print_order(o: &Order) {
    let v = OrderView::of(o);
    println!(
        "订单 {}（{}）  {}  {} 元 / {} 年",
        v.order_no,
        v.platform_order_no.unwrap_or("-"),
        v.status_label,
        v.amount,
        v.term_years
    );
    if let Some(h) = v.hold {
        println!("  挂起原因：{}  {}（解除后回到「{}」）", h.reason.label(), h.note, h.resume_to.label());
    }
    println!("  单位：{}  账号：{}  持有人：{}  电话：{}", v.company, v.account, v.holder, v.contact_phone);
    println!(
        "  KEY 编号：{}  证书序列号：{}  到期：{}  {}",
        v.key_serial,
        v.cert_serial,
        local(v.cert_not_after),
        if v.cert_seal == "single" { "单章" } else { "双章" }
    );
    println!(
        "  支付：{}  资料：{}  开票：{}",
        v.paid_at.map(local).unwrap_or_else(|| "未支付".into()),
        if v.docs_approved { "已审核" } else { "未审核" },
        o.invoice_status.label()
    );
    println!(
        "  寄来运单：{}  收件：{}",
        v.inbound_waybill.unwrap_or("-"),
        v.received_at.map(|t| format!("{} {}", local(t), v.received_by.unwrap_or(""))).unwrap_or_else(|| "-".into())
    );
    println!(
        "  寄回运单：{}  发货：{}  收货人：{}",
        v.outbound_waybill.unwrap_or("-"),
        v.shipped_at.map(local).unwrap_or_else(|| "-".into()),
        v.ship_to
    );
}

fn print_orders(orders: &[Order], json: bool) -> Result<(), Failure> {
    if json {
        let views: Vec<OrderView> = orders.iter().map(OrderView::of).collect();
        return print_json(&views);
    }
    let mut out = std::io::stdout().lock();
    for o in orders {
        let _ = writeln!(
            out,
            "{}  {:<6}  {}  {}  KEY {}  运单 {}",
            o.order_no,
            o.status.label(),
            o.company,
            mask::name(&o.holder_name),
            o.key_serial,
            o.inbound.waybill.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

pub(crate) fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| fail(e.to_string()))?;
    println!("{text}");
    Ok(())
}
