//! `keydesk dev …`: demo and test helpers, never needed at a real desk. A demo CA; the demo orders
//! moved to today (`demo-orders`, see `crate::demo`); and SoftHSM keys made as a vendor makes them —
//! the token chooses its serial — carrying a signing certificate from the demo CA with an order's
//! serial, subject and validity (plus an encryption pair and a seal image). `provision-demo` writes
//! the orders back with each key's serial recorded as the platform shows it (upper case), so
//! `keydesk renew` can be tried at once. The demo PIN is given on the command line: demo only.

use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};
use clap::Subcommand;
use serde_json::Value;

use super::config::Config;
use super::exit;
use crate::ca::x509::KeyAlgorithm;
use crate::ca::LocalCa;
use crate::clock::Clock;
use crate::domain::{Order, OrderKind, Status};
use crate::provision::softhsm::{self, MemberKey, SoftHsmDir};

/// The demo order the README's walk-through renews.
pub const DEMO_ORDER: &str = "0000261121000001";

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Create a demo CA (EC P-256): DIR/ca.crt and DIR/ca.key, kept if they exist
    DemoCa {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Make one SoftHSM key in DIR (the token chooses its serial, printed) with a certificate from the CA
    ProvisionToken {
        #[arg(long)]
        softhsm_dir: PathBuf,
        #[arg(long)]
        subject: String,
        #[arg(long)]
        cert_serial: String,
        #[arg(long)]
        not_before: chrono::DateTime<Utc>,
        #[arg(long)]
        not_after: chrono::DateTime<Utc>,
        #[arg(long)]
        ca_dir: PathBuf,
        #[arg(long, default_value = "123456")]
        pin: String,
        /// rsa-2048 or ec-p256
        #[arg(long, default_value = "rsa-2048")]
        algorithm: String,
        /// Only the signing key and certificate (no encryption pair, no seal)
        #[arg(long)]
        bare: bool,
        #[arg(long, default_value = "demo")]
        label: String,
        /// Print `{"serial": …, "order_serial": …}` instead of a sentence
        #[arg(long)]
        json: bool,
    },
    /// Write the demo orders moved to today (the fixture is written as of a fixed day)
    DemoOrders {
        #[arg(long, default_value = "fixtures/demo-orders.json")]
        orders: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Make SoftHSM keys for demo orders waiting for renewal (always including 0000261121000001) and
    /// write the orders with each key's serial to OUT
    ProvisionDemo {
        #[arg(long)]
        softhsm_dir: PathBuf,
        #[arg(long)]
        ca_dir: PathBuf,
        /// The orders, as `dev demo-orders` wrote them
        #[arg(long)]
        orders: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "123456")]
        pin: String,
        #[arg(long, default_value_t = 4)]
        limit: usize,
    },
    /// Insert a virtual card into the vpcd virtual reader until interrupted (demo and tests)
    VirtualCard {
        /// The card's ATR, hex (the demo's maps to SoftHSM in scripts/demo's configuration)
        #[arg(long, default_value = crate::token::virtual_card::DEMO_ATR)]
        atr: String,
        /// The vpcd reader's port (35963 is `Virtual PCD 00 00`)
        #[arg(long, default_value_t = crate::token::virtual_card::VPCD_PORT)]
        port: u16,
    },
}

/// Creates the demo CA in `dir` unless it is there; returns it.
pub fn demo_ca(dir: &Path, clock: &Clock) -> Result<LocalCa, String> {
    let (cert, key) = (dir.join("ca.crt"), dir.join("ca.key"));
    if !cert.is_file() || !key.is_file() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let now = clock.now();
        let (cert_pem, key_pem) = LocalCa::create(
            "CN=keydesk 演示 CA,O=keydesk,C=CN",
            now - Duration::days(3650),
            now + Duration::days(3650 * 3),
        )
        .map_err(|e| e.to_string())?;
        std::fs::write(&cert, cert_pem).map_err(|e| e.to_string())?;
        write_private(&key, &key_pem)?;
    }
    LocalCa::from_files(&cert, &key).map_err(|e| e.to_string())
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(text.as_bytes()).map_err(|e| e.to_string())
}

/// Points this process's PKCS#11 module at the folder (before the module is loaded).
fn use_softhsm_dir(dir: &SoftHsmDir) {
    std::env::set_var("SOFTHSM2_CONF", dir.conf());
}

/// The key serial as the platform writes it: the token's own serial in its canonical form.
pub fn platform_serial(token_serial: &str) -> String {
    crate::domain::KeySerial::new(token_serial).to_string()
}

fn member_key(o: &Order, token_serial: &str, pin: &str) -> MemberKey {
    MemberKey {
        token_serial: token_serial.to_string(),
        token_label: o.account.clone(),
        pin: pin.into(),
        algorithm: KeyAlgorithm::Rsa { bits: 2048 },
        subject: o.cert.subject.clone(),
        cert_serial: o.cert.serial.clone(),
        not_before: o.cert.not_before,
        not_after: o.cert.not_after,
        extras: true,
    }
}

pub async fn run(cmd: DevCommand, config: &Config, clock: &Clock) -> Result<u8, String> {
    let module = config.token.module.display().to_string();
    match cmd {
        DevCommand::DemoCa { dir } => {
            let ca = demo_ca(&dir, clock)?;
            println!("演示 CA：{}（{}）", dir.join("ca.crt").display(), ca.certificate().subject);
        }
        DevCommand::ProvisionToken {
            softhsm_dir,
            subject,
            cert_serial,
            not_before,
            not_after,
            ca_dir,
            pin,
            algorithm,
            bare,
            label,
            json,
        } => {
            let ca = demo_ca(&ca_dir, clock)?;
            let dir = SoftHsmDir::create(&softhsm_dir)?;
            let serial = dir.init_token(&label, &pin)?;
            use_softhsm_dir(&dir);
            let key = MemberKey {
                token_serial: serial.clone(),
                token_label: label,
                pin,
                algorithm: KeyAlgorithm::from_code(&algorithm)
                    .ok_or_else(|| format!("unknown algorithm {algorithm:?} (rsa-2048, ec-p256)"))?,
                subject,
                cert_serial,
                not_before,
                not_after,
                extras: !bare,
            };
            softhsm::provision(&module, &key, &ca)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "serial": serial, "order_serial": platform_serial(&serial), "softhsm2_conf": dir.conf() })
                );
            } else {
                println!(
                    "KEY {serial} 已制作（订单中记为 {}；SOFTHSM2_CONF={}）",
                    platform_serial(&serial),
                    dir.conf().display()
                );
            }
        }
        DevCommand::DemoOrders { orders, out } => {
            let text = std::fs::read_to_string(&orders).map_err(|e| format!("{}: {e}", orders.display()))?;
            let calendar = crate::sla::Calendar::load(&config.sla).map_err(|e| e.to_string())?;
            let moved = crate::demo::rebase(
                &text,
                crate::demo::fixture_as_of(),
                clock.now(),
                &calendar,
                config.renewal.mail_only_before,
            )?;
            std::fs::write(&out, moved).map_err(|e| format!("{}: {e}", out.display()))?;
            println!("演示订单已按今天（{}）写入 {}", clock.now_local().date_naive(), out.display());
        }
        DevCommand::ProvisionDemo { softhsm_dir, ca_dir, orders, out, pin, limit } => {
            let ca = demo_ca(&ca_dir, clock)?;
            let text = std::fs::read_to_string(&orders).map_err(|e| format!("{}: {e}", orders.display()))?;
            let all = crate::ops::import::parse_export(&text, clock.now()).map_err(|e| e.to_string())?;
            let mut chosen: Vec<&Order> = all.iter().filter(|o| o.order_no.as_str() == DEMO_ORDER).collect();
            for o in &all {
                if chosen.len() >= limit {
                    break;
                }
                let waiting = matches!(o.status, Status::Paid | Status::Received)
                    && o.kind == OrderKind::MailBack
                    && o.handler.docs_approved;
                if waiting && !chosen.iter().any(|c| c.order_no == o.order_no || c.key_serial == o.key_serial) {
                    chosen.push(o);
                }
            }
            let dir = SoftHsmDir::create(&softhsm_dir)?;
            let mut serials = Vec::new();
            for o in &chosen {
                serials.push(dir.init_token(&o.account, &pin)?);
            }
            use_softhsm_dir(&dir);
            let mut records: Vec<Value> = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            for (o, serial) in chosen.iter().zip(&serials) {
                softhsm::provision(&module, &member_key(o, serial, &pin), &ca)?;
                let record = records.iter_mut().find(|r| {
                    r["order_no"].as_str().map(crate::domain::scan_text::canonical_identifier).as_deref()
                        == Some(o.order_no.as_str())
                });
                if let Some(r) = record {
                    r["key_serial"] = Value::String(platform_serial(serial));
                }
                println!(
                    "KEY {serial}  订单 {}  {}  证书 {} 到期 {}",
                    o.order_no, o.company, o.cert.serial, o.cert.not_after
                );
            }
            std::fs::write(&out, serde_json::to_string_pretty(&records).map_err(|e| e.to_string())?)
                .map_err(|e| format!("{}: {e}", out.display()))?;
            println!("\n  订单（含 KEY 编号）：{}\n  export SOFTHSM2_CONF={}\n  export KEYDESK_CA__CERT={}\n  export KEYDESK_CA__KEY={}\n  PIN：{pin}", out.display(), dir.conf().display(), ca_dir.join("ca.crt").display(), ca_dir.join("ca.key").display());
        }
        DevCommand::VirtualCard { atr, port } => {
            let atr = hex::decode(atr.replace(' ', "")).map_err(|e| format!("ATR is not hex: {e}"))?;
            let card = crate::token::virtual_card::VirtualCard::insert(port, &atr).map_err(|e| {
                format!("vpcd reader on port {port} does not answer ({e}): start pcscd with vsmartcard-vpcd")
            })?;
            println!("虚拟 KEY 已插入 vpcd 读卡器（端口 {port}，ATR {}）；Ctrl-C 拔出", hex::encode_upper(&atr));
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => break,
                    _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {
                        if !card.is_inserted() {
                            return Err("vpcd closed the connection (pcscd stopped?)".into());
                        }
                    }
                }
            }
            card.remove();
            println!("虚拟 KEY 已拔出");
        }
    }
    Ok(exit::OK)
}
