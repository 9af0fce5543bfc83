//! Renewing the certificate on a real SoftHSM2 key through the `keydesk` binary: each test has its own
//! token folder, demo CA and SQLite database. Independent readers check the result: `pkcs11-tool` for
//! what is on the key, `openssl` for the chain and validity, and the database for what was issued.
//! The crash tests abort the process at every step boundary (the `KEYDESK_TEST_ABORT_AFTER` hook) and
//! run the command again.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use chrono::SubsecRound;
use keydesk::cli::exit;

pub const ORDER: &str = "0000261121000001";
pub const PIN: &str = "123456";
const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const SUBJECT: &str = "CN=051@秦晓明@ZS00000toubiao00,O=北京巨蟹宫科技有限公司,C=CN";
const CERT_SERIAL: &str = "E0C6774455113DC3";

/// A desk with one member key in the reader: the demo order 0000261121000001, moved to today and
/// received. The key is made as a vendor makes one (the token chooses its serial) and the order names
/// it as the platform does (upper case).
pub struct KeyLab {
    pub dir: tempfile::TempDir,
    /// The SoftHSM folder the desk sees (tests may point it elsewhere: another key inserted).
    pub hsm: PathBuf,
    /// The order's key编号, as the order records it.
    pub key_serial: String,
    /// Other received orders with keys of their own (order number, key serial), when asked for.
    pub others: Vec<(String, String)>,
}

impl KeyLab {
    /// The demo order as the fixture has it relative to today: its certificate expires tomorrow.
    pub fn new() -> KeyLab {
        KeyLab::with_certificate(None, 1)
    }

    /// The demo order and `more` other waiting orders, each with a key of its own, all received.
    pub fn with_more_keys(more: usize) -> KeyLab {
        KeyLab::with_certificate(None, 1 + more)
    }

    /// The order's certificate valid for a year to `now + expires_in` (negative: expired).
    pub fn expiring_in(expires_in: chrono::TimeDelta) -> KeyLab {
        let not_after = chrono::Utc::now().trunc_subsecs(0) + expires_in;
        KeyLab::with_certificate(Some((not_after - chrono::Months::new(12), not_after)), 1)
    }

    fn with_certificate(
        validity: Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)>,
        keys: usize,
    ) -> KeyLab {
        let dir = tempfile::tempdir().unwrap();
        let hsm = dir.path().join("hsm");
        let mut lab = KeyLab { dir, hsm, key_serial: String::new(), others: vec![] };
        let orders = lab.dir.path().join("orders.json");
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo-orders.json");
        lab.ok(&["dev", "demo-orders", "--orders", fixtures, "--out", orders.to_str().unwrap()]);
        if let Some((from, until)) = validity {
            let mut all: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&orders).unwrap()).unwrap();
            let order = all.as_array_mut().unwrap().iter_mut().find(|o| o["order_no"] == ORDER).unwrap();
            order["cert"]["not_before"] = from.to_rfc3339().into();
            order["cert"]["not_after"] = until.to_rfc3339().into();
            std::fs::write(&orders, all.to_string()).unwrap();
        }
        let keyed = lab.dir.path().join("orders-keyed.json");
        lab.ok(&[
            "dev",
            "provision-demo",
            "--softhsm-dir",
            lab.hsm.to_str().unwrap(),
            "--ca-dir",
            lab.ca_dir().to_str().unwrap(),
            "--orders",
            orders.to_str().unwrap(),
            "--out",
            keyed.to_str().unwrap(),
            "--limit",
            &keys.to_string(),
        ]);
        let all: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&keyed).unwrap()).unwrap();
        lab.key_serial = all.as_array().unwrap().iter().find(|o| o["order_no"] == ORDER).unwrap()["key_serial"]
            .as_str()
            .unwrap()
            .to_string();
        lab.ok_stdin(&["operator", "add", "qin", "--password-stdin"], "2468\n");
        lab.ok(&["import", "orders", keyed.to_str().unwrap()]);
        lab.ok(&["intake", "SF1402000000000"]);
        // The other orders given keys: the ones whose key serial the tokens chose.
        let before: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&orders).unwrap()).unwrap();
        for (was, now) in before.as_array().unwrap().iter().zip(all.as_array().unwrap()) {
            if now["order_no"] != ORDER && was["key_serial"] != now["key_serial"] {
                let no = now["order_no"].as_str().unwrap().to_string();
                if let Some(waybill) = now["inbound"]["waybill"].as_str() {
                    lab.ok(&["intake", waybill]);
                }
                lab.others.push((no, now["key_serial"].as_str().unwrap().to_string()));
            }
        }
        assert_eq!(lab.others.len(), keys - 1, "keys for {keys} orders");
        lab
    }

    pub fn ca_dir(&self) -> PathBuf {
        self.dir.path().join("ca")
    }

    pub fn db_url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("k.db").display())
    }

    /// Another key (its own serial) carrying the order's certificate, in the SoftHSM folder `hsm`;
    /// returns the serial that key chose.
    pub fn provision_other_key(&self, hsm: &Path) -> String {
        let order = self.order();
        let out = self.ok(&[
            "dev",
            "provision-token",
            "--softhsm-dir",
            hsm.to_str().unwrap(),
            "--subject",
            SUBJECT,
            "--cert-serial",
            CERT_SERIAL,
            "--not-before",
            order["cert_not_before"].as_str().unwrap(),
            "--not-after",
            order["cert_not_after"].as_str().unwrap(),
            "--ca-dir",
            self.ca_dir().to_str().unwrap(),
            "--label",
            "ystoub00",
            "--json",
        ]);
        let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        made["serial"].as_str().unwrap().to_string()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_keydesk"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("KEYDESK_CONFIG")
            .env_remove(keydesk::domain::renewal_job::ABORT_HOOK)
            .env_remove(keydesk::token::worker::HANG_HOOK)
            .env("KEYDESK_OPERATOR", "qin")
            .env("KEYDESK_DATABASE__URL", self.db_url())
            .env("KEYDESK_LOG__DIR", self.dir.path().join("logs"))
            .env("KEYDESK_CA__CERT", self.ca_dir().join("ca.crt"))
            .env("KEYDESK_CA__KEY", self.ca_dir().join("ca.key"))
            .env("SOFTHSM2_CONF", self.hsm.join("softhsm2.conf"));
        c
    }

    pub fn run_stdin(&self, mut c: Command, input: &str) -> Output {
        use std::io::Write;
        let mut child = c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn ok_stdin(&self, args: &[&str], input: &str) -> Output {
        let out = self.run_stdin(self.command(args), input);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// `keydesk renew ORDER --pin-stdin --json` with extra environment.
    pub fn renew(&self, env: &[(&str, &str)]) -> Output {
        let mut c = self.command(&["renew", ORDER, "--pin-stdin", "--json"]);
        for (k, v) in env {
            c.env(k, v);
        }
        self.run_stdin(c, &format!("{PIN}\n"))
    }

    pub fn renew_ok(&self) -> serde_json::Value {
        let out = self.renew(&[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "renew: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn order(&self) -> serde_json::Value {
        let out = self.ok(&["order", "show", ORDER, "--json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["order"].clone()
    }

    pub fn pkcs11_tool(&self, args: &[&str]) -> Output {
        Command::new("pkcs11-tool")
            .args(["--module", MODULE, "--token-label", "ystoub00", "--login", "--pin", PIN])
            .args(args)
            .env("SOFTHSM2_CONF", self.hsm.join("softhsm2.conf"))
            .output()
            .expect("pkcs11-tool (package opensc)")
    }

    /// The key's objects as pkcs11-tool lists them: (kind, label, id).
    pub fn objects(&self) -> Vec<(String, String, String)> {
        let out = self.pkcs11_tool(&["--list-objects"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut objects = Vec::new();
        let mut current: Option<(String, String, String)> = None;
        for line in text.lines() {
            let t = line.trim();
            if !line.starts_with(' ') && t.to_lowercase().contains(" object") {
                objects.extend(current.take());
                let kind = t.split([';']).next().unwrap_or("").replace(" Object", "").replace(" object", "");
                let kind = kind
                    .split_whitespace()
                    .take_while(|w| !w.chars().all(|c| c.is_ascii_digit()))
                    .collect::<Vec<_>>()
                    .join(" ");
                current = Some((kind, String::new(), String::new()));
            } else if let Some(c) = current.as_mut() {
                if let Some(l) = t.strip_prefix("label:") {
                    c.1 = l.trim().trim_matches('\'').to_string();
                } else if let Some(id) = t.strip_prefix("ID:") {
                    c.2 = id.trim().to_string();
                }
            }
        }
        objects.extend(current);
        objects.sort();
        objects
    }

    /// An object's bytes, read by pkcs11-tool.
    pub fn read_object(&self, kind: &str, label: &str) -> Vec<u8> {
        let file = self.dir.path().join(format!("read-{kind}-{}", rand_name()));
        let out = self.pkcs11_tool(&[
            "--read-object",
            "--type",
            kind,
            "--label",
            label,
            "--output-file",
            file.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "read {kind} {label}: {}", String::from_utf8_lossy(&out.stderr));
        std::fs::read(file).unwrap()
    }

    /// How many certificates the database recorded for the order.
    pub fn issued_count(&self) -> i64 {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let store =
                keydesk::store::open(&self.db_url(), 1, std::time::Duration::from_secs(5), false).await.unwrap();
            let order = store.order_by_no(&keydesk::domain::OrderNo::parse(ORDER).unwrap()).await.unwrap().unwrap();
            store.issued_certificates_for_order(order.id).await.unwrap().len() as i64
        })
    }
}

fn rand_name() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl").args(args).output().expect("openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// After a renewal: one signing certificate (the new one, from the CA, with the planned validity),
/// one signing key, the encryption pair and the seal untouched, one issued certificate recorded.
fn assert_renewed_once(lab: &KeyLab, seal_before: &[u8], enc_before: &[u8], outcome: &serde_json::Value) {
    let objects = lab.objects();
    let certs: Vec<_> = objects.iter().filter(|o| o.0 == "Certificate").collect();
    let privs: Vec<_> = objects.iter().filter(|o| o.0 == "Private Key").collect();
    assert_eq!(certs.len(), 2, "{objects:?}");
    assert_eq!(privs.len(), 2, "{objects:?}");
    assert!(
        objects.iter().all(|o| o.1 != "keydesk-pending" && !o.1.starts_with("keydesk-pending")),
        "labels activated: {objects:?}"
    );
    assert!(!objects.iter().any(|o| o.2 == "01"), "old signing pair removed: {objects:?}");
    assert_eq!(lab.read_object("data", "电子印章"), seal_before, "seal byte for byte");
    assert_eq!(lab.read_object("cert", "加密证书"), enc_before, "encryption certificate byte for byte");
    assert_eq!(lab.issued_count(), 1, "exactly one issued certificate");
    assert_eq!(lab.order()["status"], "renewed");

    let der = lab.read_object("cert", "签名证书");
    let der_file = lab.dir.path().join("new.der");
    std::fs::write(&der_file, der).unwrap();
    let pem_file = lab.dir.path().join("new.pem");
    openssl(&["x509", "-inform", "DER", "-in", der_file.to_str().unwrap(), "-out", pem_file.to_str().unwrap()]);
    let cert = pem_file.to_str().unwrap();
    let verified = openssl(&["verify", "-CAfile", lab.ca_dir().join("ca.crt").to_str().unwrap(), cert]);
    assert!(verified.contains(": OK"), "{verified}");
    let info =
        openssl(&["x509", "-in", cert, "-noout", "-serial", "-enddate", "-subject", "-nameopt", "utf8,sep_comma_plus"]);
    let serial = outcome["new"]["serial"].as_str().unwrap();
    assert!(info.contains(&format!("serial={serial}")), "{info}");
    // One year paid: before expiry the old expiry plus one year, after it the issue time plus one year,
    // to the second.
    let at = |v: &serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().with_timezone(&chrono::Utc)
    };
    let (old_expiry, issued, new_expiry) =
        (at(&outcome["old"]["not_after"]), at(&outcome["new"]["not_before"]), at(&outcome["new"]["not_after"]));
    let from = if old_expiry > issued { old_expiry } else { issued };
    let expected = from.checked_add_months(chrono::Months::new(12)).unwrap();
    assert_eq!(new_expiry, expected, "the rule's expiry: {outcome}");
    assert_eq!(issued.timestamp_subsec_nanos(), 0, "whole seconds");
    let openssl_end = expected.format("notAfter=%b %e %H:%M:%S %Y GMT").to_string();
    assert!(info.contains(&openssl_end), "{info} lacks {openssl_end}");
    assert!(info.contains("CN=051@秦晓明@ZS00000toubiao00"), "{info}");
}

#[test]
fn renewal_replaces_only_the_signing_pair_and_a_rerun_changes_nothing() {
    let lab = KeyLab::new();
    let seal = lab.read_object("data", "电子印章");
    let enc = lab.read_object("cert", "加密证书");
    let show = lab.ok(&["token", "show", "--serial", &lab.key_serial, "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let reported = shown[0]["token"]["serial"].as_str().unwrap();
    assert_ne!(reported, lab.key_serial, "SoftHSM reports its own serial in lower case");
    assert_eq!(reported.to_uppercase(), lab.key_serial, "the order names it as the platform writes it");
    assert_eq!(shown[0]["certificates"][0]["serial"], "E0C6774455113DC3", "{shown}");
    assert!(
        shown[0]["objects"].as_array().unwrap().iter().all(|o| o["class"] != "private_key"),
        "no private objects without a PIN"
    );

    let outcome = lab.renew_ok();
    assert_eq!(outcome["result"], "renewed");
    assert_eq!(outcome["old"]["serial"], "E0C6774455113DC3");
    let steps: Vec<&str> = outcome["steps"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        steps,
        [
            "identify",
            "login",
            "start",
            "generate_key",
            "build_request",
            "issue",
            "write_certificate",
            "activate",
            "finish"
        ]
    );
    assert_renewed_once(&lab, &seal, &enc, &outcome);
    let objects = lab.objects();

    let mut c = lab.command(&["renew", ORDER, "--pin-stdin", "--json"]);
    c.env_remove("KEYDESK_CA__CERT").env_remove("KEYDESK_CA__KEY");
    let out = lab.run_stdin(c, &format!("{PIN}\n"));
    assert_eq!(out.status.code(), Some(0), "a finished renewal needs no CA: {}", String::from_utf8_lossy(&out.stderr));
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again["result"], "already_renewed");
    assert_eq!(again["new"]["serial"], outcome["new"]["serial"]);
    assert_eq!(lab.objects(), objects, "a re-run after completion changes nothing");
    assert_eq!(lab.issued_count(), 1);
}

/// One crash test per step boundary: abort there, run again, and find exactly one renewal.
macro_rules! crash_at {
    ($($name:ident => $point:expr),* $(,)?) => {
        mod killed_at {
            use super::*;
            $(
                #[test]
                fn $name() {
                    let lab = KeyLab::new();
                    let seal = lab.read_object("data", "电子印章");
                    let enc = lab.read_object("cert", "加密证书");
                    let out = lab.renew(&[(keydesk::domain::renewal_job::ABORT_HOOK, $point)]);
                    assert_eq!(out.status.code(), None, "{} should abort: {}", $point, String::from_utf8_lossy(&out.stderr));
                    let outcome = lab.renew_ok();
                    // Killed after the last commit, the job was complete: the re-run only reports it.
                    let expected = if $point == "finish:done" { "already_renewed" } else { "renewed" };
                    assert_eq!(outcome["result"], expected, "{outcome}");
                    assert_renewed_once(&lab, &seal, &enc, &outcome);
                    assert_eq!(lab.renew_ok()["result"], "already_renewed");
                }
            )*
        }
    };
}

crash_at! {
    start_done => "start:done",
    generate_key_intent => "generate_key:intent",
    generate_key_act => "generate_key:act",
    generate_key_done => "generate_key:done",
    build_request_intent => "build_request:intent",
    build_request_act => "build_request:act",
    build_request_done => "build_request:done",
    issue_intent => "issue:intent",
    issue_act => "issue:act",
    issue_done => "issue:done",
    write_certificate_intent => "write_certificate:intent",
    write_certificate_act => "write_certificate:act",
    write_certificate_done => "write_certificate:done",
    activate_intent => "activate:intent",
    activate_act => "activate:act",
    activate_done => "activate:done",
    finish_intent => "finish:intent",
    finish_done => "finish:done",
}

#[test]
fn wrong_key_in_the_reader_is_refused_naming_both_serials_and_the_order_held() {
    let mut lab = KeyLab::new();
    lab.hsm = lab.dir.path().join("other-hsm");
    let other = lab.provision_other_key(&lab.hsm.clone());
    let out = lab.renew(&[]);
    assert_eq!(out.status.code(), Some(exit::RENEW_WRONG_KEY as i32));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&other) && err.contains(&lab.key_serial) && err.contains("wrong key"), "{err}");
    let order = lab.order();
    assert_eq!(order["status"], "on_hold");
    assert_eq!(order["hold"]["reason"], "wrong_key");
    assert_eq!(lab.objects().len(), 7, "nothing written to the wrong key");
}

#[test]
fn a_different_key_inserted_mid_job_is_refused_and_the_job_continues_on_the_right_key() {
    let mut lab = KeyLab::new();
    let seal = lab.read_object("data", "电子印章");
    let enc = lab.read_object("cert", "加密证书");
    let out = lab.renew(&[(keydesk::domain::renewal_job::ABORT_HOOK, "write_certificate:act")]);
    assert_eq!(out.status.code(), None);

    // The member's key is pulled and another one inserted: refused, order held, job kept.
    let right = lab.hsm.clone();
    lab.hsm = lab.dir.path().join("other-hsm");
    lab.provision_other_key(&lab.hsm.clone());
    let out = lab.renew(&[]);
    assert_eq!(out.status.code(), Some(exit::RENEW_WRONG_KEY as i32), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(lab.order()["hold"]["reason"], "wrong_key");
    assert_eq!(lab.objects().len(), 7, "the other key is untouched");

    // The right key back, the hold released: the job completes where it stopped.
    lab.hsm = right;
    lab.ok(&["order", "release", ORDER, "--note", "换回正确的 KEY"]);
    assert_eq!(lab.order()["status"], "renewing");
    let outcome = lab.renew_ok();
    assert_eq!(outcome["resumed"], true);
    assert_renewed_once(&lab, &seal, &enc, &outcome);
}

#[test]
fn a_hanging_module_is_killed_after_the_timeout_and_the_rerun_completes() {
    let lab = KeyLab::new();
    let seal = lab.read_object("data", "电子印章");
    let enc = lab.read_object("cert", "加密证书");
    let started = std::time::Instant::now();
    let out = lab.renew(&[(keydesk::token::worker::HANG_HOOK, "sign"), ("KEYDESK_TOKEN__WORKER_TIMEOUT_SECS", "2")]);
    assert_eq!(out.status.code(), Some(exit::RENEW_TOKEN as i32), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(String::from_utf8_lossy(&out.stderr).contains("timed out"));
    assert_eq!(lab.order()["status"], "renewing", "the job is kept");
    let outcome = lab.renew_ok();
    assert_renewed_once(&lab, &seal, &enc, &outcome);
}

#[test]
fn a_wrong_pin_stops_before_anything_is_written() {
    let lab = KeyLab::new();
    let out = lab.run_stdin(lab.command(&["renew", ORDER, "--pin-stdin"]), "000000\n");
    assert_eq!(out.status.code(), Some(exit::RENEW_PIN as i32), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("000000"), "the PIN is never echoed: {err}");
    assert_eq!(lab.order()["status"], "received");
    assert_eq!(lab.objects().len(), 7);
}

/// An `openssl ca` set up in the lab, run by the command CA. `dates` is how the script asks for the
/// validity: the planned one, or the CA's own default of a year from now (a CA that ignores the plan).
fn openssl_ca(lab: &KeyLab, dates: &str) -> PathBuf {
    let ca = lab.dir.path().join("openssl-ca");
    std::fs::create_dir_all(ca.join("new")).unwrap();
    std::fs::write(ca.join("index.txt"), "").unwrap();
    std::fs::write(ca.join("serial"), "1000\n").unwrap();
    let cnf = format!(
        "[ca]\ndefault_ca = demo\n[demo]\ndir = {d}\ndatabase = $dir/index.txt\nnew_certs_dir = $dir/new\nserial = $dir/serial\n\
         certificate = {cert}\nprivate_key = {key}\ndefault_md = sha256\npolicy = any\npreserve = yes\nunique_subject = no\n\
         utf8 = yes\nstring_mask = utf8only\nx509_extensions = leaf\n[any]\ncountryName = optional\norganizationName = optional\n\
         commonName = supplied\n[leaf]\nbasicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature, nonRepudiation\n\
         subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n",
        d = ca.display(),
        cert = lab.ca_dir().join("ca.crt").display(),
        key = lab.ca_dir().join("ca.key").display()
    );
    std::fs::write(ca.join("openssl.cnf"), cnf).unwrap();
    let script = ca.join("issue.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nset -e\nopenssl ca -batch -config {d}/openssl.cnf -in /dev/stdin -out {d}/out.pem -notext \
             {dates} 2>>{d}/ca.log\ncat {d}/out.pem\n",
            d = ca.display()
        ),
    )
    .unwrap();
    let out = Command::new("chmod").args(["+x", script.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success());
    script
}

const PLANNED_DATES: &str = "-startdate \"$KEYDESK_NOT_BEFORE\" -enddate \"$KEYDESK_NOT_AFTER\"";

fn renew_with_command_ca(lab: &KeyLab, script: &Path) -> Output {
    let mut c = lab.command(&["renew", ORDER, "--pin-stdin", "--json"]);
    c.env("KEYDESK_CA__BACKEND", "command")
        .env("KEYDESK_CA__COMMAND", format!("[\"{}\"]", script.display()))
        .env_remove("KEYDESK_CA__KEY");
    lab.run_stdin(c, &format!("{PIN}\n"))
}

/// Renews through `openssl ca` and checks the result as [`assert_renewed_once`] does.
fn renews_with_openssl_ca(lab: &KeyLab) -> serde_json::Value {
    let seal = lab.read_object("data", "电子印章");
    let enc = lab.read_object("cert", "加密证书");
    let script = openssl_ca(lab, PLANNED_DATES);
    let out = renew_with_command_ca(lab, &script);
    let log = std::fs::read_to_string(script.with_file_name("ca.log")).unwrap_or_default();
    assert_eq!(out.status.code(), Some(0), "{}{log}", String::from_utf8_lossy(&out.stderr));
    let outcome = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
    assert_eq!(outcome["new"]["serial"], "1000", "openssl's own serial");
    assert_renewed_once(lab, &seal, &enc, &outcome);
    outcome
}

fn renews_with_the_local_ca(lab: &KeyLab) -> serde_json::Value {
    let seal = lab.read_object("data", "电子印章");
    let enc = lab.read_object("cert", "加密证书");
    let outcome = lab.renew_ok();
    assert_renewed_once(lab, &seal, &enc, &outcome);
    outcome
}

fn expiry(outcome: &serde_json::Value, which: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(outcome[which]["not_after"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc)
}

#[test]
fn the_command_ca_runs_openssl_ca_with_the_planned_validity() {
    renews_with_openssl_ca(&KeyLab::new());
}

#[test]
fn a_certificate_that_expired_a_month_ago_renews_for_a_year_from_issue_with_either_ca() {
    for renew in [renews_with_the_local_ca, renews_with_openssl_ca] {
        let lab = KeyLab::expiring_in(-chrono::TimeDelta::days(30));
        let outcome = renew(&lab);
        let from_now = expiry(&outcome, "new") - chrono::Utc::now();
        assert!((from_now - chrono::TimeDelta::days(365)).num_days().abs() <= 1, "a year from now: {outcome}");
    }
}

#[test]
fn a_certificate_expiring_in_30_days_renews_for_a_year_from_its_old_expiry_with_either_ca() {
    for renew in [renews_with_the_local_ca, renews_with_openssl_ca] {
        let lab = KeyLab::expiring_in(chrono::TimeDelta::days(30));
        let outcome = renew(&lab);
        assert_eq!(
            expiry(&outcome, "new"),
            expiry(&outcome, "old").checked_add_months(chrono::Months::new(12)).unwrap(),
            "{outcome}"
        );
    }
}

fn abandon(lab: &KeyLab, reason: &str) -> Output {
    let c = lab.command(&["renew", ORDER, "--abandon", "--reason", reason, "--pin-stdin", "--json"]);
    lab.run_stdin(c, &format!("{PIN}\n"))
}

#[test]
fn a_ca_that_ignores_the_planned_validity_is_refused_with_both_dates_and_the_job_can_be_abandoned() {
    let lab = KeyLab::new();
    let before = lab.objects();
    let seal = lab.read_object("data", "电子印章");
    let enc = lab.read_object("cert", "加密证书");
    // `openssl ca -days 365` issues for a year from now, not from the old expiry the rule asks for.
    let script = openssl_ca(&lab, "-days 365");
    for _ in 0..2 {
        let out = renew_with_command_ca(&lab, &script);
        assert_eq!(out.status.code(), Some(exit::RENEW_CA as i32), "{}", String::from_utf8_lossy(&out.stderr));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("有效期至") && err.contains("续签规则要求") && err.contains("证书 100"),
            "both dates and the refused certificate: {err}"
        );
        assert!(err.contains("放弃续签") && !err.contains("插好"), "says what to do for this failure: {err}");
        assert_eq!(lab.order()["status"], "renewing", "the job is kept");
    }

    let out = abandon(&lab, "CA 有效期模板错误");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(PIN), "the PIN is never echoed");
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["status"], "received");
    assert!(outcome["key_cleanup"].as_str().unwrap().contains("原证书保留"), "{outcome}");
    assert_eq!(lab.objects(), before, "the job's new key pair is gone, the old objects are as they were");
    assert_eq!(lab.read_object("data", "电子印章"), seal);
    assert_eq!(lab.read_object("cert", "加密证书"), enc);
    let shown = lab.ok(&["order", "show", ORDER, "--json"]);
    let audit: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let last = audit["audit"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|a| a["action"] == "renew_abandon")
        .expect("an audited abandonment");
    assert!(last["reason"].as_str().unwrap().contains("CA 有效期模板错误"), "{last}");
    assert_eq!(abandon(&lab, "再来一次").status.code(), Some(exit::REFUSED as i32), "nothing left to abandon");

    // A new job starts and completes with a CA that issues what was asked.
    let outcome = lab.renew_ok();
    assert_renewed_once(&lab, &seal, &enc, &outcome);
}

#[test]
fn abandoning_after_the_ca_issued_records_the_certificate_as_issued_and_unused() {
    let lab = KeyLab::new();
    let before = lab.objects();
    let out = lab.renew(&[(keydesk::domain::renewal_job::ABORT_HOOK, "write_certificate:act")]);
    assert_eq!(out.status.code(), None, "aborted after the certificate went on the key");
    let out = abandon(&lab, "会员改为自行续签");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let unused = outcome["unused_certificate"]["serial"].as_str().expect("the issued certificate is named").to_string();
    assert_eq!(lab.objects(), before, "the written certificate and the new pair are removed");
    assert_eq!(lab.issued_count(), 1, "the issued certificate stays on record");
    let renewed = lab.renew_ok();
    assert_ne!(renewed["new"]["serial"].as_str().unwrap(), unused, "a new job asks for a new certificate");
    assert_eq!(lab.issued_count(), 2);
    assert_eq!(lab.order()["status"], "renewed");
}

#[test]
fn abandoning_needs_a_reason_and_the_key_or_says_why_not() {
    let mut lab = KeyLab::new();
    let out = lab.renew(&[(keydesk::domain::renewal_job::ABORT_HOOK, "generate_key:done")]);
    assert_eq!(out.status.code(), None);
    let no_reason = lab.command(&["renew", ORDER, "--abandon"]).output().unwrap();
    assert_eq!(no_reason.status.code(), Some(exit::USAGE as i32), "clap asks for --reason");
    lab.hsm = lab.dir.path().join("empty-hsm");
    std::fs::create_dir_all(lab.hsm.join("tokens")).unwrap();
    std::fs::write(
        lab.hsm.join("softhsm2.conf"),
        format!("directories.tokendir = {}\n", lab.hsm.join("tokens").display()),
    )
    .unwrap();
    let out = abandon(&lab, "KEY 损坏");
    assert_eq!(out.status.code(), Some(exit::RENEW_TOKEN as i32), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("插入订单的 KEY"));
    let c =
        lab.command(&["renew", ORDER, "--abandon", "--reason", "KEY 损坏，会员另寄新 KEY", "--without-key", "--json"]);
    let out = lab.run_stdin(c, "");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(outcome["key_cleanup"].as_str().unwrap().contains("未清理"), "{outcome}");
    assert_eq!(lab.order()["status"], "received");
}

/// Two keys, two worker processes. While one process writes its key over and over (as a renewal
/// does), the other finds and logs into its own key each time. SoftHSM answers `CKR_GENERAL_ERROR` to
/// `C_GetTokenInfo` on a token another process is writing, and the slot lookup reads every key's
/// token info: a busy key must not make the one asked for fail (two renewals at once failed so in CI).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_found_while_another_process_writes_the_other_key() {
    use keydesk::token::worker::{TokenWorker, WorkerProgram};
    let lab = KeyLab::with_more_keys(1);
    // nextest runs each test in its own process, so the workers inherit this key folder alone.
    std::env::set_var("SOFTHSM2_CONF", lab.hsm.join("softhsm2.conf"));
    let program = WorkerProgram { program: env!("CARGO_BIN_EXE_keydesk").into(), args: vec!["token-worker".into()] };
    let timeout = std::time::Duration::from_secs(30);
    let pin = zeroize::Zeroizing::new(PIN.to_string());
    let busy = lab.others[0].1.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (program, pin, stop) = (program.clone(), pin.clone(), stop.clone());
        tokio::spawn(async move {
            let mut writes = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Each round as a renewal's worker: a login (SoftHSM rewrites the token's flags), a new
                // pair, and the pair removed again.
                let mut w = TokenWorker::spawn(&program, MODULE, timeout).await.unwrap();
                w.login(&busy, &pin).await.unwrap();
                let algorithm = keydesk::ca::x509::KeyAlgorithm::EcP256;
                w.generate_key_pair(&busy, b"busy", "busy", algorithm).await.unwrap();
                let pair = [keydesk::token::pkcs11::Class::PrivateKey, keydesk::token::pkcs11::Class::PublicKey];
                w.destroy(&busy, &pair, b"busy").await.unwrap();
                w.close().await;
                writes += 1;
            }
            writes
        })
    };
    for attempt in 0..60 {
        let mut w = TokenWorker::spawn(&program, MODULE, timeout).await.unwrap();
        let result = w.login(&lab.key_serial, &pin).await;
        w.close().await;
        assert!(result.is_ok(), "attempt {attempt}: {result:?}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(writer.await.unwrap() > 0, "the other key was written meanwhile");
}
