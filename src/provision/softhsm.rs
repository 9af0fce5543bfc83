//! Dev and test only: SoftHSM2 tokens that stand in for members' UKeys. A token folder of its own
//! (`softhsm2.conf` + `tokens/`), a token made as a vendor makes one (`softhsm2-util --init-token`:
//! the token chooses its own serial, which is read back and never rewritten), and a member's key: a
//! signing key pair with its certificate from a (demo) CA, plus the objects a real key carries that a
//! renewal must leave untouched — an encryption key pair with its certificate and an electronic seal
//! data object.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use der::Encode;

use crate::ca::x509::{self, CertificateTemplate, KeyAlgorithm};
use crate::ca::LocalCa;
use crate::token::pkcs11::TokenAccess;

pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
pub const SO_PIN: &str = "12345678";

/// A folder holding SoftHSM tokens and the config file that points at it.
#[derive(Debug, Clone)]
pub struct SoftHsmDir {
    pub dir: PathBuf,
}

impl SoftHsmDir {
    pub fn create(dir: &Path) -> Result<SoftHsmDir, String> {
        let tokens = dir.join("tokens");
        std::fs::create_dir_all(&tokens).map_err(|e| format!("{}: {e}", tokens.display()))?;
        let conf = format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
            tokens.display()
        );
        std::fs::write(dir.join("softhsm2.conf"), conf).map_err(|e| e.to_string())?;
        Ok(SoftHsmDir { dir: dir.to_path_buf() })
    }

    /// The value for `SOFTHSM2_CONF`.
    pub fn conf(&self) -> PathBuf {
        self.dir.join("softhsm2.conf")
    }

    fn token_dirs(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.join("tokens"))
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("token.object").is_file()).collect()
            })
            .unwrap_or_default()
    }

    /// Makes a token with this label and user PIN; returns the serial the token chose for itself.
    pub fn init_token(&self, label: &str, pin: &str) -> Result<String, String> {
        let before = self.token_dirs();
        let out = std::process::Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", pin])
            .env("SOFTHSM2_CONF", self.conf())
            .output()
            .map_err(|e| format!("softhsm2-util: {e} (install the softhsm2 package)"))?;
        if !out.status.success() {
            return Err(format!("softhsm2-util --init-token: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let new =
            self.token_dirs().into_iter().find(|d| !before.contains(d)).ok_or("softhsm2-util made no token folder")?;
        read_serial(&new.join("token.object"))
    }
}

/// SoftHSM's object file: attributes as (u64 type, u64 kind, value); kind 3 is a byte string with a u64 length.
const CKA_OS_TOKENSERIAL: u64 = 0x8000_534A;

/// The serial SoftHSM gave the token, read from its object file (as `C_GetTokenInfo` would report it).
fn read_serial(file: &Path) -> Result<String, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let tag: Vec<u8> = [CKA_OS_TOKENSERIAL.to_be_bytes(), 3u64.to_be_bytes()].concat();
    let at =
        bytes.windows(tag.len()).position(|w| w == tag.as_slice()).ok_or("no serial attribute in the token file")?;
    let len_at = at + tag.len();
    let len =
        u64::from_be_bytes(bytes.get(len_at..len_at + 8).and_then(|b| b.try_into().ok()).ok_or("short token file")?)
            as usize;
    let value = bytes.get(len_at + 8..len_at + 8 + len).ok_or("short token file")?;
    Ok(String::from_utf8_lossy(value).trim().to_string())
}

/// A member's key as the demo and the tests want it.
#[derive(Debug, Clone)]
pub struct MemberKey {
    pub token_serial: String,
    pub token_label: String,
    pub pin: String,
    pub algorithm: KeyAlgorithm,
    pub subject: String,
    pub cert_serial: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// Also an encryption key pair with certificate and a seal image data object.
    pub extras: bool,
}

/// Writes a member's key into a token made by [`SoftHsmDir::init_token`]. Runs in a process whose
/// `SOFTHSM2_CONF` points at that folder.
pub fn provision(module: &str, key: &MemberKey, ca: &LocalCa) -> Result<(), String> {
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let mut t = TokenAccess::open(module).map_err(|x| e(&x))?;
    t.login(&key.token_serial, &key.pin).map_err(|x| e(&x))?;
    let subject_der = x509::parse_name(&key.subject).map_err(|x| e(&x))?.to_der().map_err(|x| e(&x))?;
    let sign_id = [0x01u8];
    let (parts, _) = t.generate_key_pair(&key.token_serial, &sign_id, "签名密钥", key.algorithm).map_err(|x| e(&x))?;
    let spki = parts.spki().map_err(|x| e(&x))?;
    let serial = hex::decode(x509::normalize_serial(&key.cert_serial)).map_err(|x| e(&x))?;
    let serial = if serial.first().is_some_and(|b| b & 0x80 != 0) { [&[0u8][..], &serial].concat() } else { serial };
    let certify = |serial: &[u8], spki: &[u8]| {
        ca.certify(&CertificateTemplate {
            serial,
            subject_der: &subject_der,
            spki_der: spki,
            not_before: key.not_before,
            not_after: key.not_after,
            issuer: None,
            is_ca: false,
        })
        .map_err(|x| e(&x))
    };
    let der = certify(&serial, &spki)?;
    t.write_certificate(&key.token_serial, &sign_id, "签名证书", &der).map_err(|x| e(&x))?;
    if key.extras {
        let enc_id = [0x02u8];
        let (parts, _) =
            t.generate_key_pair(&key.token_serial, &enc_id, "加密密钥", KeyAlgorithm::EcP256).map_err(|x| e(&x))?;
        let spki = parts.spki().map_err(|x| e(&x))?;
        let enc_serial: [u8; 8] = rand::random::<[u8; 8]>().map(|b| b & 0x7f);
        let der = certify(&enc_serial, &spki)?;
        t.write_certificate(&key.token_serial, &enc_id, "加密证书", &der).map_err(|x| e(&x))?;
        t.create_data(&key.token_serial, "电子印章", "keydesk-demo-seal", &demo_seal_image(&key.subject))
            .map_err(|x| e(&x))?;
    }
    t.logout();
    Ok(())
}

/// A stand-in seal image: a PNG signature followed by bytes derived from the subject.
fn demo_seal_image(subject: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut block = Sha256::digest(subject.as_bytes()).to_vec();
    for _ in 0..32 {
        out.extend(&block);
        block = Sha256::digest(&block).to_vec();
    }
    out
}
