//! The SM2 test token (tests/sm2-token), loaded through cryptoki like any vendor module: token
//! init with a serial it chooses, SM2 keys generated inside and never extractable, both signing
//! mechanisms verified by openssl 3, the PIN counter that really locks, files that survive a new
//! process, two processes at once and a process killed mid-write. Each test initialises the module
//! with its own token folder (the module is one per process: nextest runs each test in its own).

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::vendor_defined::VendorDefinedMechanism;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use sm3::Digest;
use std::path::{Path, PathBuf};
use std::process::Command;

const CKK_SM2: u64 = 0x8000_0004;
const CKM_SM2_KEY_PAIR_GEN: u64 = 0x8000_8001;
const CKM_SM3_SM2: u64 = 0x8000_8100;
const CKM_SM3_SM2_APPID1: u64 = 0x8000_8102;
const CKM_SM2_SIGN: u64 = 0x8000_8104;
const SM2_EC_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];
const SO_PIN: &str = "87654321";
const USER_PIN: &str = "12345678";
const ID: &[u8] = b"1234567812345678";

fn module() -> PathBuf {
    // target/debug/deps/<test binary> → target/debug/libkeydesk_sm2_test_token.so
    let exe = std::env::current_exe().unwrap();
    let lib = exe.parent().unwrap().parent().unwrap().join("libkeydesk_sm2_test_token.so");
    assert!(lib.exists(), "{} missing: run cargo build -p keydesk-sm2-test-token (scripts/test does)", lib.display());
    lib
}

fn open(dir: &Path) -> Pkcs11 {
    std::env::set_var("KEYDESK_SM2_TOKEN_DIR", dir);
    let ctx = Pkcs11::new(module()).unwrap();
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)).unwrap();
    ctx
}

fn mech(code: u64) -> Mechanism<'static> {
    Mechanism::VendorDefined(VendorDefinedMechanism::new::<()>(MechanismType::new_vendor_defined(code).unwrap(), None))
}

fn rv(e: Error) -> RvError {
    match e {
        Error::Pkcs11(rv, _) => rv,
        other => panic!("not a PKCS#11 answer: {other}"),
    }
}

/// Initialises the empty slot's token and its user PIN; returns the slot and the serial.
fn new_token(ctx: &Pkcs11, label: &str) -> (Slot, String) {
    let slots = ctx.get_all_slots().unwrap();
    let empty = *slots.last().unwrap();
    assert!(!ctx.get_token_info(empty).unwrap().token_initialized());
    ctx.init_token(empty, &AuthPin::new(SO_PIN.into()), label).unwrap();
    let s = ctx.open_rw_session(empty).unwrap();
    s.login(UserType::So, Some(&AuthPin::new(SO_PIN.into()))).unwrap();
    s.init_pin(&AuthPin::new(USER_PIN.into())).unwrap();
    s.logout().unwrap();
    drop(s);
    let serial = ctx.get_token_info(empty).unwrap().serial_number().trim_end().to_string();
    (empty, serial)
}

fn user(ctx: &Pkcs11, slot: Slot) -> Session {
    let s = ctx.open_rw_session(slot).unwrap();
    s.login(UserType::User, Some(&AuthPin::new(USER_PIN.into()))).unwrap();
    s
}

fn generate(s: &Session, id: &[u8]) -> (ObjectHandle, ObjectHandle) {
    let public = [
        Attribute::Token(true),
        Attribute::Id(id.to_vec()),
        Attribute::Label(b"sm2".to_vec()),
        Attribute::Verify(true),
    ];
    let private = [
        Attribute::Token(true),
        Attribute::Id(id.to_vec()),
        Attribute::Label(b"sm2".to_vec()),
        Attribute::Sign(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
    ];
    s.generate_key_pair(&mech(CKM_SM2_KEY_PAIR_GEN), &public, &private).unwrap()
}

fn ec_point(s: &Session, h: ObjectHandle) -> Vec<u8> {
    match &s.get_attributes(h, &[AttributeType::EcPoint]).unwrap()[..] {
        [Attribute::EcPoint(p)] => p.clone(),
        other => panic!("no CKA_EC_POINT: {other:?}"),
    }
}

/// GM/T 0003 curve constants (sm2p256v1) for the host's Z.
const SM2_A: &str = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC";
const SM2_B: &str = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93";
const SM2_GX: &str = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7";
const SM2_GY: &str = "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";

/// e = SM3(Z‖M), Z = SM3(ENTL‖ID‖a‖b‖xG‖yG‖xA‖yA), computed here as keydesk's host side would.
fn prehash(point: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut z = sm3::Sm3::new();
    z.update(((ID.len() * 8) as u16).to_be_bytes());
    z.update(ID);
    for c in [SM2_A, SM2_B, SM2_GX, SM2_GY] {
        z.update(hex::decode(c).unwrap());
    }
    z.update(&point[1..]);
    let z = z.finalize();
    sm3::Sm3::new().chain_update(z).chain_update(msg).finalize().to_vec()
}

fn der_int(b: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = b.iter().copied().skip_while(|x| *x == 0).collect();
    if v.first().is_none_or(|x| x & 0x80 != 0) {
        v.insert(0, 0);
    }
    [vec![0x02, v.len() as u8], v].concat()
}

/// openssl 3 verifies an SM2 signature (r‖s from the token, DER-encoded here) on the message.
fn openssl_verifies(dir: &Path, point: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    assert_eq!(sig.len(), 64, "the token answers raw r‖s");
    // SubjectPublicKeyInfo: id-ecPublicKey with the SM2 curve, the uncompressed point.
    let alg = [vec![0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01], SM2_EC_PARAMS.to_vec()].concat();
    let alg = [vec![0x30, alg.len() as u8], alg].concat();
    let bits = [vec![0x03, (point.len() + 1) as u8, 0x00], point.to_vec()].concat();
    let spki = [vec![0x30, (alg.len() + bits.len()) as u8], alg, bits].concat();
    let seq = [der_int(&sig[..32]), der_int(&sig[32..])].concat();
    let sig_der = [vec![0x30, seq.len() as u8], seq].concat();
    std::fs::write(dir.join("pub.der"), &spki).unwrap();
    std::fs::write(dir.join("msg"), msg).unwrap();
    std::fs::write(dir.join("sig"), &sig_der).unwrap();
    let out = Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey"])
        .arg(dir.join("pub.der"))
        .args(["-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678", "-in"])
        .arg(dir.join("msg"))
        .arg("-sigfile")
        .arg(dir.join("sig"))
        .output()
        .unwrap();
    out.status.success()
}

#[test]
fn sm2_keys_sign_with_both_mechanisms_and_openssl_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = open(dir.path());
    let (slot, serial) = new_token(&ctx, "SM2 member key");
    assert_eq!(serial.len(), 16, "serial {serial:?}");
    assert!(serial.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()), "serial {serial:?}");
    let info = ctx.get_token_info(slot).unwrap();
    assert_eq!(info.manufacturer_id().trim_end(), "keydesk test token");
    // cryptoki 0.12's get_mechanism_list drops codes it does not know, so each is asked by its code.
    for (m, sign) in
        [(CKM_SM2_KEY_PAIR_GEN, false), (CKM_SM3_SM2, true), (CKM_SM3_SM2_APPID1, true), (CKM_SM2_SIGN, true)]
    {
        let info = ctx.get_mechanism_info(slot, MechanismType::new_vendor_defined(m).unwrap()).unwrap();
        assert_eq!((info.sign(), info.generate_key_pair()), (sign, !sign), "{m:#x}");
    }
    let s = user(&ctx, slot);
    let (public, private) = generate(&s, b"\x01");
    let attrs = s.get_attributes(public, &[AttributeType::KeyType, AttributeType::EcParams]).unwrap();
    assert!(attrs.contains(&Attribute::KeyType(KeyType::new_vendor_defined(CKK_SM2).unwrap())));
    assert!(attrs.contains(&Attribute::EcParams(SM2_EC_PARAMS.to_vec())));
    let der_point = ec_point(&s, public);
    assert_eq!(&der_point[..3], &[0x04, 0x41, 0x04], "CKA_EC_POINT is the DER OCTET STRING of 04‖X‖Y");
    let point = der_point[2..].to_vec();
    let msg = b"keydesk renews SM2 keys".to_vec();

    // SM3-with-SM2 on the message, both the default-ID and the ID-parameter mechanism.
    let sig = s.sign(&mech(CKM_SM3_SM2_APPID1), private, &msg).unwrap();
    assert!(openssl_verifies(dir.path(), &point, &msg, &sig));
    let with_id = Mechanism::VendorDefined(VendorDefinedMechanism::new(
        MechanismType::new_vendor_defined(CKM_SM3_SM2).unwrap(),
        Some(b"1234567812345678"),
    ));
    s.sign_init(&with_id, private).unwrap();
    s.sign_update(&msg[..7]).unwrap();
    s.sign_update(&msg[7..]).unwrap();
    let sig = s.sign_final().unwrap();
    assert!(openssl_verifies(dir.path(), &point, &msg, &sig));
    // Raw SM2 on the host's prehash e = SM3(Z‖M).
    let sig = s.sign(&mech(CKM_SM2_SIGN), private, &prehash(&point, &msg)).unwrap();
    assert!(openssl_verifies(dir.path(), &point, &msg, &sig));
    // A signature on another message does not verify (the check can fail).
    assert!(!openssl_verifies(dir.path(), &point, b"another message", &sig));
    // Raw SM2 takes exactly a 32-byte prehash.
    assert_eq!(rv(s.sign(&mech(CKM_SM2_SIGN), private, &msg).unwrap_err()), RvError::DataLenRange);
}

#[test]
fn the_private_key_never_leaves_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = open(dir.path());
    let (slot, _) = new_token(&ctx, "key");
    let s = user(&ctx, slot);
    let (_, private) = generate(&s, b"\x02");
    let attrs = s
        .get_attributes(private, &[AttributeType::Sensitive, AttributeType::Extractable, AttributeType::Value])
        .unwrap();
    assert_eq!(attrs, vec![Attribute::Sensitive(true), Attribute::Extractable(false)], "CKA_VALUE is not returned");
    let value = s.get_attribute_info(private, &[AttributeType::Value]).unwrap();
    assert!(matches!(value[..], [cryptoki::object::AttributeInfo::Sensitive]), "{value:?}");
    // A template asking for an extractable key is refused.
    let bad = [Attribute::Token(true), Attribute::Extractable(true)];
    let err = s.generate_key_pair(&mech(CKM_SM2_KEY_PAIR_GEN), &[Attribute::Token(true)], &bad).unwrap_err();
    assert_eq!(rv(err), RvError::TemplateInconsistent);
    // Without login the private key is not even visible.
    s.logout().unwrap();
    let found = s.find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)]).unwrap();
    assert!(found.is_empty());
}

fn flags(ctx: &Pkcs11, slot: Slot) -> (bool, bool, bool) {
    let i = ctx.get_token_info(slot).unwrap();
    (i.user_pin_count_low(), i.user_pin_final_try(), i.user_pin_locked())
}

#[test]
fn the_user_pin_really_locks_and_the_so_unlocks_it() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("KEYDESK_SM2_TOKEN_PIN_TRIES", "3");
    let ctx = open(dir.path());
    let (slot, _) = new_token(&ctx, "pin");
    let s = ctx.open_rw_session(slot).unwrap();
    let wrong = AuthPin::new("00000000".into());
    let right = AuthPin::new(USER_PIN.into());
    assert_eq!(flags(&ctx, slot), (false, false, false));
    assert_eq!(rv(s.login(UserType::User, Some(&wrong)).unwrap_err()), RvError::PinIncorrect);
    assert_eq!(flags(&ctx, slot), (true, false, false), "one wrong try: COUNT_LOW");
    assert_eq!(rv(s.login(UserType::User, Some(&wrong)).unwrap_err()), RvError::PinIncorrect);
    assert_eq!(flags(&ctx, slot), (true, true, false), "one try left: FINAL_TRY");
    s.login(UserType::User, Some(&right)).unwrap();
    s.logout().unwrap();
    assert_eq!(flags(&ctx, slot), (false, false, false), "a right PIN resets the counter");
    for _ in 0..3 {
        assert_eq!(rv(s.login(UserType::User, Some(&wrong)).unwrap_err()), RvError::PinIncorrect);
    }
    assert_eq!(flags(&ctx, slot), (false, false, true), "locked at zero");
    assert_eq!(rv(s.login(UserType::User, Some(&right)).unwrap_err()), RvError::PinLocked, "the right PIN is refused");
    // The lock is on the token, not in this process.
    drop(s);
    ctx.finalize().unwrap();
    let ctx = open(dir.path());
    assert_eq!(flags(&ctx, slot), (false, false, true));
    let s = ctx.open_rw_session(slot).unwrap();
    assert_eq!(rv(s.login(UserType::User, Some(&right)).unwrap_err()), RvError::PinLocked);
    s.login(UserType::So, Some(&AuthPin::new(SO_PIN.into()))).unwrap();
    s.init_pin(&AuthPin::new("24681357".into())).unwrap();
    s.logout().unwrap();
    assert_eq!(flags(&ctx, slot), (false, false, false), "SO unlock");
    s.login(UserType::User, Some(&AuthPin::new("24681357".into()))).unwrap();
}

fn cert_and_data(s: &Session, n: u32) -> (Vec<Attribute>, Vec<Attribute>) {
    let cert = vec![
        Attribute::Class(ObjectClass::CERTIFICATE),
        Attribute::CertificateType(CertificateType::X_509),
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Id(n.to_be_bytes().to_vec()),
        Attribute::Label(format!("cert {n}").into_bytes()),
        Attribute::Subject(vec![0x30, 0x00]),
        Attribute::Value((0..=255u8).cycle().take(700 + n as usize).collect()),
    ];
    let data = vec![
        Attribute::Class(ObjectClass::DATA),
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Label(format!("seal {n}").into_bytes()),
        Attribute::Application(b"keydesk".to_vec()),
        Attribute::Value(vec![n as u8; 300]),
    ];
    s.create_object(&cert).unwrap();
    s.create_object(&data).unwrap();
    (cert, data)
}

fn read_back(s: &Session, template: &[Attribute]) -> Vec<Attribute> {
    let class = template[0].clone();
    let label = template.iter().find(|a| matches!(a, Attribute::Label(_))).unwrap().clone();
    let h = s.find_objects(&[class, label]).unwrap();
    assert_eq!(h.len(), 1);
    let types: Vec<AttributeType> = template.iter().map(|a| a.attribute_type()).collect();
    s.get_attributes(h[0], &types).unwrap()
}

#[test]
fn objects_survive_a_new_process_byte_for_byte_and_go_when_destroyed() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = open(dir.path());
    let (slot, serial) = new_token(&ctx, "objects");
    let s = user(&ctx, slot);
    let (cert, data) = cert_and_data(&s, 7);
    let (public, _) = generate(&s, b"\x07");
    let point = ec_point(&s, public);
    drop(s);
    ctx.finalize().unwrap();
    // A new process reads the same token.
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "sm2_token::child", "--ignored", "--nocapture"])
        .env("SM2_CHILD", "describe")
        .env("KEYDESK_SM2_TOKEN_DIR", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("token {serial} objects 4 point {}", hex::encode(&point))), "{stdout}");
    let ctx = open(dir.path());
    let s = user(&ctx, slot);
    assert_eq!(read_back(&s, &cert), cert);
    assert_eq!(read_back(&s, &data), data);
    s.update_attributes(
        s.find_objects(&[cert[0].clone(), cert[5].clone()]).unwrap()[0],
        &[Attribute::Label(b"renamed".to_vec())],
    )
    .unwrap();
    for h in s.find_objects(&[Attribute::Class(ObjectClass::DATA)]).unwrap() {
        s.destroy_object(h).unwrap();
    }
    assert!(s.find_objects(&[Attribute::Class(ObjectClass::DATA)]).unwrap().is_empty());
    assert_eq!(s.find_objects(&[Attribute::Label(b"renamed".to_vec())]).unwrap().len(), 1);
    // A public R/O session cannot write token objects.
    let ro = ctx.open_ro_session(slot).unwrap();
    assert_eq!(rv(ro.create_object(&data).unwrap_err()), RvError::SessionReadOnly);
}

/// The child process of the tests above (runs only when they start it).
#[test]
#[ignore]
fn child() {
    let Ok(what) = std::env::var("SM2_CHILD") else { return };
    let dir = PathBuf::from(std::env::var("KEYDESK_SM2_TOKEN_DIR").unwrap());
    let ctx = open(&dir);
    let slot: Slot = ctx
        .get_all_slots()
        .unwrap()
        .into_iter()
        .find(|s| std::env::var("SM2_SLOT").map_or(true, |want| want == s.id().to_string()))
        .unwrap();
    let s = user(&ctx, slot);
    match what.as_str() {
        "describe" => {
            let serial = ctx.get_token_info(slot).unwrap().serial_number().trim_end().to_string();
            let n = s.find_objects(&[]).unwrap().len();
            let public = s.find_objects(&[Attribute::Class(ObjectClass::PUBLIC_KEY)]).unwrap()[0];
            println!("token {serial} objects {n} point {}", hex::encode(ec_point(&s, public)));
        }
        "write" => {
            let count: u32 = std::env::var("SM2_COUNT").unwrap().parse().unwrap();
            for n in 0..count {
                cert_and_data(&s, n);
            }
            println!("wrote {count}");
        }
        other => panic!("unknown child {other}"),
    }
}

fn writer(dir: &Path, slot: Slot, count: u32) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "sm2_token::child", "--ignored", "--nocapture"])
        .env("SM2_CHILD", "write")
        .env("SM2_SLOT", slot.id().to_string())
        .env("SM2_COUNT", count.to_string())
        .env("KEYDESK_SM2_TOKEN_DIR", dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn two_processes_write_at_once_and_a_killed_writer_leaves_the_token_readable() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = open(dir.path());
    let (a, _) = new_token(&ctx, "a");
    let (b, _) = new_token(&ctx, "b");
    ctx.finalize().unwrap();
    // Two tokens, two processes, and a third process on token a at the same time as the first.
    let children = [writer(dir.path(), a, 20), writer(dir.path(), b, 20), writer(dir.path(), a, 20)];
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    }
    let ctx = open(dir.path());
    for (slot, want) in [(a, 80), (b, 40)] {
        let s = user(&ctx, slot);
        assert_eq!(s.find_objects(&[]).unwrap().len(), want, "no write lost on slot {slot}");
    }
    ctx.finalize().unwrap();
    // A writer killed at some point of its writes: the token reads whole, with the objects written so far.
    let mut c = writer(dir.path(), b, 100_000);
    std::thread::sleep(std::time::Duration::from_millis(700));
    c.kill().unwrap();
    c.wait().unwrap();
    let ctx = open(dir.path());
    let s = user(&ctx, b);
    let n = s.find_objects(&[]).unwrap().len();
    assert!(n >= 40, "token b reads, its 40 objects kept ({n} objects)");
    assert!(ctx.get_token_info(b).unwrap().token_initialized());
}

#[test]
fn keydesk_token_access_works_on_the_sm2_token_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("KEYDESK_SM2_TOKEN_PIN_TRIES", "6");
    let ctx = open(dir.path());
    let (slot, serial) = new_token(&ctx, "member key");
    let s = user(&ctx, slot);
    generate(&s, b"\x09");
    drop(s);
    ctx.finalize().unwrap();
    let mut access = keydesk::token::pkcs11::TokenAccess::open(module().to_str().unwrap()).unwrap();
    let tokens = access.tokens().unwrap();
    assert_eq!(tokens.len(), 1, "the empty slot's token is not listed");
    assert_eq!((tokens[0].serial.as_str(), tokens[0].label.as_str()), (serial.as_str(), "member key"));
    assert_eq!(tokens[0].manufacturer, "keydesk test token");
    assert!(access.login(&serial, "00000000").is_err());
    let t = &access.tokens().unwrap()[0];
    assert!(t.pin.count_low && !t.pin.final_try && !t.pin.locked, "{:?}", t.pin);
    access.login(&serial, USER_PIN).unwrap();
    access.create_data(&serial, "seal", "keydesk", b"seal image").unwrap();
    access.set_label(&serial, &[keydesk::token::pkcs11::Class::PrivateKey], b"\x09", "renamed").unwrap();
    let report = access.inspect(&serial).unwrap();
    let mut classes: Vec<_> = report.objects.iter().map(|o| (o.class.clone(), o.label.clone())).collect();
    classes.sort();
    assert_eq!(classes.len(), 3, "{classes:?}");
    assert!(classes.iter().any(|(_, l)| l == "renamed"), "{classes:?}");
    assert!(classes.iter().any(|(_, l)| l == "seal"), "{classes:?}");
    assert_eq!(access.destroy(&serial, &[keydesk::token::pkcs11::Class::PrivateKey], b"\x09").unwrap(), 1);
    assert_eq!(access.inspect(&serial).unwrap().objects.len(), 2);
}
