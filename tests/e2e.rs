//! The demo's happy path in a real terminal: `scripts/demo` runs in tmux (pcscd with the vpcd virtual
//! reader, the demo key inserted, SoftHSM demo keys, a fresh SQLite demo database) with both printers
//! pointed at real IPP printers (ippeveprinter). Keys go in with `tmux send-keys` — the scan as one
//! burst, like a USB scanner — and the test reads the screen with `capture-pane`: sign in, then the
//! happy path as scan, PIN, scan: the parcel scanned opens its order, the reader panel says the key is
//! the order's and the PIN prompt is already there, the PIN renews, the return waybill scanned on the
//! order's screen ships it and queues label and invoice, with the invoice printer off (queued, then
//! sent by the desk's print worker once the printer is on). The keys typed besides the scans are
//! counted: the PIN and Enter. Then the database and the printers' spools are checked independently
//! (poppler for the PDFs).
//! It starts pcscd through the demo, so it runs in the `pcscd` test group with the reader tests.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use keydesk::domain::{InvoiceStatus, OrderNo, Status};

use crate::docs::support::ippeve::IppEvePrinter;
use crate::docs::support::tools;

const ORDER: &str = "0000261121000001";
const INBOUND: &str = "SF1402000000000";
const OUTBOUND: &str = "SF1234567890123";

/// A tmux server of its own (its own socket), so nothing else's sessions or environment leak in.
struct Tmux {
    socket: String,
    /// Keys a person typed (not a scanner's bursts).
    typed: std::cell::Cell<usize>,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("tmux (Debian package tmux)")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "desk"]).stdout).into_owned()
    }

    /// Sends keys as tmux names them (`Enter`, `F10`) or literal text (`-l`), all in one burst.
    fn keys(&self, keys: &[&str]) {
        self.typed.set(self.typed.get() + keys.len());
        let mut args = vec!["send-keys", "-t", "desk"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    fn literal(&self, text: &str) {
        assert!(self.run(&["send-keys", "-t", "desk", "-l", text]).status.success());
    }

    /// A scanner's burst: the code and Enter at once (not typed by a person).
    fn scan(&self, code: &str) {
        assert!(self.run(&["send-keys", "-t", "desk", "-l", code]).status.success());
        assert!(self.run(&["send-keys", "-t", "desk", "Enter"]).status.success());
    }

    /// Types like a person: one key at a time (so it is not taken for a scanner burst).
    fn type_slowly(&self, text: &str) {
        for c in text.chars() {
            self.typed.set(self.typed.get() + 1);
            self.literal(&c.to_string());
            std::thread::sleep(Duration::from_millis(120));
        }
    }

    fn wait_for(&self, what: &str, timeout: Duration, logs: &Path) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(what) {
                return screen;
            }
            if started.elapsed() > timeout {
                let mut log = std::fs::read_dir(logs.join("logs"))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                    .collect::<String>();
                for file in ["pcscd.log", "virtual-card.log"] {
                    log += &format!(
                        "\n--- {file} ---\n{}",
                        std::fs::read_to_string(logs.join(file)).unwrap_or_else(|e| e.to_string())
                    );
                }
                panic!("「{what}」 not on screen within {timeout:?}:\n{screen}\n--- desk log ---\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn vpcd_listening() -> bool {
    Command::new("ss")
        .args(["-ltn", "sport = :35963"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("35963"))
        .unwrap_or(false)
}

#[test]
fn the_demos_happy_path_in_a_real_terminal() {
    let _one = crate::reader::ONE_PCSCD.lock().unwrap_or_else(|e| e.into_inner());
    for tool in ["tmux", "pcscd", "softhsm2-util", "ippeveprinter", "pdftotext"] {
        if !tools::require(tool) {
            return;
        }
    }
    assert!(!vpcd_listening(), "another pcscd is running; stop it (one pcscd per machine) before this test");
    // The reader tests before this one stop their pcscd; let the process be gone before the demo looks.
    let since = Instant::now();
    while Command::new("pidof").arg("pcscd").output().is_ok_and(|o| o.status.success()) {
        assert!(since.elapsed() < Duration::from_secs(10), "a pcscd is still running");
        std::thread::sleep(Duration::from_millis(100));
    }
    let label_printer = IppEvePrinter::start();
    // The invoice printer is off at first: nothing listens on its port until later.
    let invoice_port = crate::docs::support::ippeve::free_port();
    let invoice_uri = format!("ipp://127.0.0.1:{invoice_port}/ipp/print");
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux { socket: format!("keydesk-e2e-{}", std::process::id()), typed: Default::default() };
    let root = env!("CARGO_MANIFEST_DIR");
    let started = Command::new("tmux")
        .args(["-L", &tmux.socket, "-f", "/dev/null", "new-session", "-d", "-s", "desk", "-x", "120", "-y", "40"])
        .arg(format!("bash {root}/scripts/demo; echo DEMO-EXIT $?; sleep 60"))
        .current_dir(root)
        .env_remove("KEYDESK_CONFIG")
        .env_remove("KEYDESK_DATABASE__URL")
        .env("KEYDESK_DEMO_DIR", dir.path())
        .env("KEYDESK_BIN", env!("CARGO_BIN_EXE_keydesk"))
        .env("KEYDESK_PRINTER__LABEL__BACKEND", "ipp")
        .env("KEYDESK_PRINTER__LABEL__URI", label_printer.uri())
        .env("KEYDESK_PRINTER__INVOICE__BACKEND", "ipp")
        .env("KEYDESK_PRINTER__INVOICE__URI", &invoice_uri)
        .env("TERM", "xterm-256color")
        .status()
        .expect("tmux");
    assert!(started.success());
    let logs = dir.path();
    let long = Duration::from_secs(90);

    // Sign in (typed); what follows is counted.
    tmux.wait_for("未登录", long, logs);
    tmux.type_slowly("qin");
    tmux.keys(&["Enter"]);
    tmux.type_slowly("demo1234");
    tmux.keys(&["Enter"]);
    tmux.wait_for("qin 已登录", long, logs);
    tmux.typed.set(0);
    // The parcel (a scanner burst): one key in it, so its order opens at once; the demo key in the
    // virtual reader is identified as this order's, and the PIN prompt is already there (no F10).
    tmux.scan(INBOUND);
    let screen = tmux.wait_for("是本订单的 KEY", long, logs);
    assert!(screen.contains(ORDER) && screen.contains("PIN 正常"), "{screen}");
    tmux.wait_for("PIN：", long, logs);

    // The PIN (shown as dots, never echoed), Enter: the renewal runs on the SoftHSM key.
    tmux.type_slowly("123456");
    let prompt = tmux.screen();
    assert!(prompt.contains("••••••") && !prompt.contains("123456"), "{prompt}");
    tmux.keys(&["Enter"]);
    let renewed = tmux.wait_for("续签完成", Duration::from_secs(180), logs);
    assert!(!renewed.contains("123456"));

    // The return waybill scanned on the renewed order's screen ships it; label and invoice queue for
    // printing on their own. The invoice printer is off: the label prints, the invoice waits in the
    // queue and the corner says so; once the printer is on, the desk's print worker sends it.
    tmux.wait_for("扫描寄回运单即发货", long, logs);
    tmux.scan(OUTBOUND);
    tmux.wait_for(&format!("寄回运单：{OUTBOUND}"), long, logs);
    tmux.wait_for("面单：已打印；发票：已排队，打印机恢复后自动重试", long, logs);
    assert_eq!(tmux.typed.get(), 7, "the happy path is scan, the PIN and Enter, scan");
    tmux.wait_for("打印排队 1", long, logs);
    let invoice_printer = IppEvePrinter::start_on_port(invoice_port, &[]);
    // The order line and the corner are drawn from two reads (and `keydesk worker` may print before
    // the desk's own pass), and a capture can fall mid-frame: wait for each in turn.
    tmux.wait_for("发票已打印", long, logs);
    tmux.wait_for("今日已打印 2", long, logs);

    // The database, read on its own: shipped with the waybill, invoice issued, every step audited
    // with the operator and the demo desk.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let url = format!("sqlite://{}", dir.path().join("keydesk.db").display());
        let store = keydesk::store::open(&url, 1, Duration::from_secs(5), false).await.unwrap();
        let order = store.order_by_no(&OrderNo::parse(ORDER).unwrap()).await.unwrap().unwrap();
        assert_eq!(order.status, Status::Shipped);
        assert_eq!(order.outbound_waybill.as_ref().map(|w| w.as_str().to_string()).as_deref(), Some(OUTBOUND));
        assert_eq!(order.invoice_status, InvoiceStatus::Issued);
        let audit = store.audit_for_order(order.id).await.unwrap();
        for to in ["received", "renewing", "renewed", "shipped"] {
            let row = audit
                .iter()
                .find(|a| a.to_status.as_deref() == Some(to))
                .unwrap_or_else(|| panic!("no move to {to}: {audit:?}"));
            assert_eq!((row.operator.as_str(), row.desk.as_str()), ("qin", "演示工作台"));
        }
        let certs = store.issued_certificates_for_order(order.id).await.unwrap();
        assert!(certs.iter().any(|c| c.not_after > chrono::Utc::now() + chrono::Duration::days(300)), "{certs:?}");
    });

    // What the printers received, read back with poppler.
    let label = label_printer.wait_for_document(Duration::from_secs(30));
    let invoice = invoice_printer.wait_for_document(Duration::from_secs(30));
    for (name, pdf, expect) in [("label", &label, OUTBOUND), ("invoice", &invoice, "北京巨蟹宫科技有限公司")]
    {
        let path = dir.path().join(format!("{name}.pdf"));
        std::fs::write(&path, pdf).unwrap();
        let text = tools::pdftotext(&path);
        assert!(text.contains(expect), "{name}: {text}");
    }

    // Quit: the demo pulls its virtual key and stops the pcscd it started.
    tmux.keys(&["C-q"]);
    tmux.wait_for("DEMO-EXIT 0", long, logs);
    let stopped = Instant::now();
    while vpcd_listening() {
        assert!(stopped.elapsed() < Duration::from_secs(10), "the demo left pcscd running");
        std::thread::sleep(Duration::from_millis(100));
    }
}
