//! The token files: one JSON file per token in `KEYDESK_SM2_TOKEN_DIR` (`slot-<n>.json`), written
//! atomically (temp file, fsync, rename, fsync of the folder) under an exclusive `flock` on
//! `slot-<n>.lock`, so two processes never interleave a read-modify-write and a process killed
//! mid-write leaves the previous file whole. TEST TOKEN: the SM2 private scalars are stored here in
//! the clear; they are never returned over PKCS#11.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

pub const DIR_ENV: &str = "KEYDESK_SM2_TOKEN_DIR";
pub const TRIES_ENV: &str = "KEYDESK_SM2_TOKEN_PIN_TRIES";
pub const DEFAULT_TRIES: u32 = 6;

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct PinHash {
    pub salt: String,
    pub sm3: String,
}

impl PinHash {
    pub fn new(pin: &[u8]) -> PinHash {
        let mut salt = [0u8; 16];
        getrandom::getrandom(&mut salt).expect("the system RNG");
        let salt = hex::encode(salt);
        PinHash { sm3: Self::digest(&salt, pin), salt }
    }
    fn digest(salt: &str, pin: &[u8]) -> String {
        use sm3::Digest;
        let mut h = sm3::Sm3::new();
        h.update(salt.as_bytes());
        h.update(pin);
        hex::encode(h.finalize())
    }
    pub fn matches(&self, pin: &[u8]) -> bool {
        Self::digest(&self.salt, pin) == self.sm3
    }
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct StoredObject {
    pub handle: u64,
    /// Attribute type → value, as hex of the raw bytes the application gave (or the token set).
    pub attrs: BTreeMap<u64, String>,
    /// The SM2 private scalar (private keys only; test token: stored in the clear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sm2_secret: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct TokenFile {
    pub label: String,
    pub serial: String,
    pub so_pin: PinHash,
    pub user_pin: Option<PinHash>,
    pub max_tries: u32,
    pub user_tries_left: u32,
    pub next_object: u64,
    pub objects: Vec<StoredObject>,
}

pub struct Store {
    dir: PathBuf,
}

/// An exclusive lock on one token's lock file, released on drop.
pub struct Locked {
    _file: File,
}

impl Store {
    pub fn from_env() -> Option<Store> {
        let dir = PathBuf::from(std::env::var_os(DIR_ENV)?);
        fs::create_dir_all(&dir).ok()?;
        Some(Store { dir })
    }

    fn path(&self, slot: u64) -> PathBuf {
        self.dir.join(format!("slot-{slot}.json"))
    }

    /// The slots that hold a token file, ascending.
    pub fn token_slots(&self) -> Vec<u64> {
        let mut out: Vec<u64> = fs::read_dir(&self.dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let name = e.file_name().into_string().ok()?;
                        name.strip_prefix("slot-")?.strip_suffix(".json")?.parse().ok()
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort_unstable();
        out
    }

    /// The one empty slot (for C_InitToken): after the last token.
    pub fn empty_slot(&self) -> u64 {
        self.token_slots().last().map_or(1, |s| s + 1)
    }

    pub fn lock(&self, slot: u64) -> std::io::Result<Locked> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(format!("slot-{slot}.lock")))?;
        // SAFETY: flock on a descriptor we own; blocks until the other process releases it.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Locked { _file: file })
    }

    /// The token in this slot, or None when the slot has no token file.
    pub fn read(&self, slot: u64) -> Result<Option<TokenFile>, ()> {
        match fs::read(self.path(slot)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|_| ()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(_) => Err(()),
        }
    }

    /// Replaces the token file atomically; the caller holds the slot's lock.
    pub fn write(&self, slot: u64, token: &TokenFile, _lock: &Locked) -> std::io::Result<()> {
        let path = self.path(slot);
        let tmp = self.dir.join(format!(".slot-{slot}.json.{}.tmp", std::process::id()));
        let bytes = serde_json::to_vec_pretty(token).map_err(std::io::Error::other)?;
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        sync_dir(&self.dir)
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The retry count a new token gets: `KEYDESK_SM2_TOKEN_PIN_TRIES` (1..=15), else 6.
pub fn configured_tries() -> u32 {
    std::env::var(TRIES_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| (1..=15).contains(n))
        .unwrap_or(DEFAULT_TRIES)
}
