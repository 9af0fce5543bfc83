//! A real IPP printer for tests: CUPS's `ippeveprinter` on a free loopback port, keeping every job
//! it receives in a spool folder.
//!
//! On Debian 12 it will not start without an Avahi daemon on the D-Bus system bus, even with
//! `-r off`. So each printer gets its own private `dbus-daemon` (a unix socket in the test folder)
//! and an `avahi-daemon` inside `unshare -m -n`: an empty network namespace where it can announce
//! nothing, and a private mount namespace so its pid file does not clash with another one.
//! The printer itself runs in the normal namespace, reachable on 127.0.0.1. Everything is killed
//! when the value is dropped.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct IppEvePrinter {
    dir: tempfile::TempDir,
    port: u16,
    children: Vec<Child>,
}

/// A loopback port nothing listens on now (for a printer that is "off" until started on it).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool, log: impl Fn() -> String) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < timeout, "{what} did not become ready within {timeout:?}:\n{}", log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl IppEvePrinter {
    /// A label printer: 100×150 and 76×130 mm media, like a thermal label printer.
    pub fn start() -> Self {
        Self::start_with_media(&["custom_100x150mm_100x150mm", "custom_76x130mm_76x130mm"])
    }

    /// Starts dbus, avahi and a printer offering `media`; returns when it accepts connections.
    /// An empty list keeps ippeveprinter's own defaults (office paper sizes).
    pub fn start_with_media(media: &[&str]) -> Self {
        Self::start_on_port(free_port(), media)
    }

    /// The same, on a given loopback port (one the code under test was told about while it was off).
    pub fn start_on_port(port: u16, media: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut printer = Self { port: 0, children: Vec::new(), dir };
        let root = printer.dir.path().to_path_buf();
        let socket = root.join("bus.sock");
        let conf = root.join("bus.conf");
        std::fs::write(
            &conf,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )
        .expect("write bus.conf");

        let mut dbus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", conf.display()))
            .args(["--nofork", "--print-address"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon (Debian package dbus)");
        let stdout = dbus.stdout.take().expect("dbus stdout");
        printer.children.push(dbus);
        let mut address = String::new();
        BufReader::new(stdout).read_line(&mut address).expect("dbus address");
        assert!(address.starts_with("unix:"), "dbus-daemon did not start: {address:?}");
        let bus = format!("unix:path={}", socket.display());

        let avahi_log = root.join("avahi.log");
        let avahi = Command::new("unshare")
            .args(["-m", "-n", "sh", "-c"])
            .arg(
                "mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && \
                 (ip link set lo up 2>/dev/null || true) && \
                 exec avahi-daemon --no-drop-root --no-chroot --no-rlimits",
            )
            .env("DBUS_SYSTEM_BUS_ADDRESS", &bus)
            .stdout(std::fs::File::create(&avahi_log).expect("avahi log"))
            .stderr(Stdio::from(std::fs::File::create(root.join("avahi.err")).expect("avahi err")))
            .spawn()
            .expect("start avahi-daemon in unshare (Debian package avahi-daemon)");
        printer.children.push(avahi);
        let avahi_err = root.join("avahi.err");
        let avahi_output = || {
            format!(
                "{}{}",
                std::fs::read_to_string(&avahi_log).unwrap_or_default(),
                std::fs::read_to_string(&avahi_err).unwrap_or_default()
            )
        };
        wait_for(
            "avahi-daemon",
            Duration::from_secs(15),
            || avahi_output().contains("Server startup complete"),
            avahi_output,
        );

        let spool = root.join("spool");
        std::fs::create_dir_all(&spool).expect("spool dir");
        printer.port = port;
        let mut command = Command::new("ippeveprinter");
        if let Some(default) = media.first() {
            let attrs = root.join("media.conf");
            std::fs::write(
                &attrs,
                format!(
                    "ATTR keyword media-default {default}\nATTR keyword media-ready {default}\n\
                     ATTR keyword media-supported {}\n\
                     ATTR mimeMediaType document-format-supported application/pdf,image/pwg-raster\n",
                    media.join(",")
                ),
            )
            .expect("write media.conf");
            // With -a the formats come from the file; -f would be a usage error.
            command.arg("-a").arg(attrs);
        } else {
            command.args(["-f", "application/pdf,image/pwg-raster"]);
        }
        let ippeve = command
            .args(["-p", &printer.port.to_string(), "-n", "localhost", "-r", "off", "-k", "-d"])
            .arg(&spool)
            .arg("Keydesk Test Label")
            .env("DBUS_SYSTEM_BUS_ADDRESS", &bus)
            .stdout(Stdio::from(std::fs::File::create(root.join("ippeve.out")).expect("ippeve out")))
            .stderr(Stdio::from(std::fs::File::create(root.join("ippeve.log")).expect("ippeve log")))
            .spawn()
            .expect("start ippeveprinter (Debian package cups-ipp-utils)");
        printer.children.push(ippeve);
        let port = printer.port;
        let log_path = root.join("ippeve.log");
        wait_for(
            "ippeveprinter",
            Duration::from_secs(10),
            || TcpStream::connect(("127.0.0.1", port)).is_ok(),
            || {
                let out = std::fs::read_to_string(log_path.with_extension("out")).unwrap_or_default();
                format!("{}{out}", std::fs::read_to_string(&log_path).unwrap_or_default())
            },
        );
        printer
    }

    /// `ipp://127.0.0.1:PORT/ipp/print`.
    pub fn uri(&self) -> String {
        format!("ipp://127.0.0.1:{}/ipp/print", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn spool(&self) -> PathBuf {
        self.dir.path().join("spool")
    }

    /// The printer's own log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("ippeve.log")).unwrap_or_default()
    }

    /// Waits until the spool holds a finished document file and returns its bytes.
    pub fn wait_for_document(&self, timeout: Duration) -> Vec<u8> {
        let start = Instant::now();
        loop {
            if let Some(bytes) = spooled_pdf(&self.spool()) {
                return bytes;
            }
            assert!(start.elapsed() < timeout, "no document spooled; printer log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn spooled_pdf(dir: &Path) -> Option<Vec<u8>> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).ok()?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "pdf") {
                let bytes = std::fs::read(&path).ok()?;
                let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
                if bytes[..end].ends_with(b"%%EOF") {
                    return Some(bytes);
                }
            }
        }
    }
    None
}

impl Drop for IppEvePrinter {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
