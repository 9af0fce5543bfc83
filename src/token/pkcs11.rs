//! The member's key through its vendor's PKCS#11 module (crate `cryptoki`). Only the token worker
//! process calls this: a vendor module that hangs or crashes takes the worker down, never the desk.
//! A token is always found by its serial number (the order's key编号), never by slot id, which
//! changes between processes and insertions.

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ca::x509::KeyAlgorithm;

/// How often a slot's token info is asked again after a general failure (see `summary_settled`).
const SUMMARY_RETRIES: u32 = 2;

/// How often a token lookup starts the module afresh while a token cannot be read (see `scan_settled`).
const MODULE_RESTARTS: u32 = 3;

pub use crate::domain::key_report::{ObjectInfo, PinFlags, TokenReport, TokenSummary};

/// A token failure, as the worker sends it over its pipe. Adjacently tagged: an internally tagged enum
/// cannot carry a newtype variant of a string (`Pkcs11(String)`), and serialising one failed halfway,
/// so the worker died and every PKCS#11 error reached the desk as "token worker died".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum TokenError {
    #[error("无法加载 PKCS#11 模块 {module}：{message}")]
    Module { module: String, message: String },
    #[error("读卡器中没有序列号为 {serial} 的 KEY（在场的 KEY：{present}）")]
    NotPresent { serial: String, present: String },
    #[error("KEY 已被拔出或无响应 (token removed)")]
    Removed,
    #[error("PIN 不正确")]
    PinIncorrect,
    #[error("PIN 已锁定")]
    PinLocked,
    #[error("尚未登录 KEY")]
    NotLoggedIn,
    #[error("KEY 上找不到对象：{0}")]
    MissingObject(String),
    #[error("PKCS#11 错误：{0}")]
    Pkcs11(String),
}

impl From<CkError> for TokenError {
    fn from(e: CkError) -> Self {
        match &e {
            CkError::Pkcs11(rv, _) => match rv {
                RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange => TokenError::PinIncorrect,
                RvError::PinLocked => TokenError::PinLocked,
                RvError::DeviceRemoved
                | RvError::TokenNotPresent
                | RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::DeviceError
                | RvError::TokenNotRecognized => TokenError::Removed,
                RvError::UserNotLoggedIn => TokenError::NotLoggedIn,
                _ => TokenError::Pkcs11(e.to_string()),
            },
            _ => TokenError::Pkcs11(e.to_string()),
        }
    }
}

pub type TokenResult<T> = Result<T, TokenError>;

/// The public half of a key pair, as its raw attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PublicKeyParts {
    Rsa { modulus: String, exponent: String },
    Ec { point: String },
}

impl PublicKeyParts {
    pub fn spki(&self) -> Result<Vec<u8>, crate::ca::x509::X509Error> {
        let h = |s: &str| hex::decode(s).map_err(|e| crate::ca::x509::X509Error::Malformed(e.to_string()));
        match self {
            PublicKeyParts::Rsa { modulus, exponent } => crate::ca::x509::rsa_spki(&h(modulus)?, &h(exponent)?),
            PublicKeyParts::Ec { point } => crate::ca::x509::ec_spki(&h(point)?),
        }
    }
}

/// Object classes the desk addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Certificate,
    PrivateKey,
    PublicKey,
    Data,
}

impl Class {
    fn object_class(self) -> ObjectClass {
        match self {
            Class::Certificate => ObjectClass::CERTIFICATE,
            Class::PrivateKey => ObjectClass::PRIVATE_KEY,
            Class::PublicKey => ObjectClass::PUBLIC_KEY,
            Class::Data => ObjectClass::DATA,
        }
    }
}

fn class_name(c: ObjectClass) -> String {
    match c {
        ObjectClass::CERTIFICATE => "certificate".into(),
        ObjectClass::PRIVATE_KEY => "private_key".into(),
        ObjectClass::PUBLIC_KEY => "public_key".into(),
        ObjectClass::DATA => "data".into(),
        ObjectClass::SECRET_KEY => "secret_key".into(),
        other => format!("class_{other}"),
    }
}

fn trimmed(s: &str) -> String {
    s.trim_end_matches([' ', '\0']).to_string()
}

/// A loaded module, and at most one open session on one token.
pub struct TokenAccess {
    ctx: Pkcs11,
    session: Option<(Slot, Session, String)>,
    logged_in: bool,
}

impl TokenAccess {
    pub fn open(module: &str) -> TokenResult<TokenAccess> {
        let err = |e: CkError| TokenError::Module { module: module.into(), message: e.to_string() };
        let ctx = Pkcs11::new(module).map_err(err)?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(err(e)),
        }
        Ok(TokenAccess { ctx, session: None, logged_in: false })
    }

    /// The token in a slot, or `None` when the slot's token is not initialised.
    fn summary(&self, slot: Slot) -> TokenResult<Option<TokenSummary>> {
        let info = self.ctx.get_token_info(slot)?;
        if !info.token_initialized() {
            return Ok(None);
        }
        let slot_info = self.ctx.get_slot_info(slot)?;
        Ok(Some(TokenSummary {
            serial: trimmed(info.serial_number()),
            label: trimmed(info.label()),
            manufacturer: trimmed(info.manufacturer_id()),
            model: trimmed(info.model()),
            slot_description: trimmed(slot_info.slot_description()),
            pin: PinFlags {
                count_low: info.user_pin_count_low(),
                final_try: info.user_pin_final_try(),
                locked: info.user_pin_locked(),
                to_be_changed: info.user_pin_to_be_changed(),
            },
        }))
    }

    /// A slot's token, asked again after a general failure (a vendor module may fail for a moment
    /// on USB; reading token info changes nothing, so asking again is safe in any request).
    fn summary_settled(&self, slot: Slot) -> TokenResult<Option<TokenSummary>> {
        let mut attempt = 0;
        loop {
            match self.summary(slot) {
                Err(TokenError::Pkcs11(_)) if attempt < SUMMARY_RETRIES => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10 * u64::from(attempt)));
                }
                other => return other,
            }
        }
    }

    /// Every initialised token present, each read on its own: a token that cannot be read (its
    /// error kept) does not hide the others.
    fn scan(&self) -> TokenResult<Vec<(Slot, TokenResult<TokenSummary>)>> {
        let slots = self.ctx.get_slots_with_token()?;
        Ok(slots
            .into_iter()
            .filter_map(|slot| match self.summary_settled(slot) {
                Ok(Some(t)) => Some((slot, Ok(t))),
                Ok(None) => None,
                Err(e) => Some((slot, Err(e))),
            })
            .collect())
    }

    /// Scans the tokens; while one cannot be read and no session is open, starts the module afresh
    /// and scans again. SoftHSM answers `CKR_GENERAL_ERROR` to `C_GetTokenInfo` on a token whose
    /// files it read while another process was writing them (two renewals at once, each on its own
    /// key), and keeps answering so in that process until the token changes again: asking again
    /// does not help, a fresh `C_Initialize` does.
    fn scan_settled(&mut self) -> TokenResult<Vec<(Slot, TokenResult<TokenSummary>)>> {
        let mut restarts = 0;
        loop {
            let scan = self.scan()?;
            let unreadable = scan.iter().any(|(_, t)| t.is_err());
            if !unreadable || self.session.is_some() || restarts == MODULE_RESTARTS {
                return Ok(scan);
            }
            restarts += 1;
            tracing::debug!(restarts, "a token could not be read: starting the module afresh");
            self.restart()?;
        }
    }

    /// `C_Finalize` and `C_Initialize` again: the module forgets what it read. Only with no session
    /// open (nothing logged in is lost).
    fn restart(&mut self) -> TokenResult<()> {
        self.session = None;
        self.logged_in = false;
        // A module that fails to finalise is initialised again all the same; that answer says all.
        let _ = self.ctx.clone().finalize();
        match self.ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every initialised token present now.
    pub fn tokens(&mut self) -> TokenResult<Vec<TokenSummary>> {
        self.scan_settled()?.into_iter().map(|(_, t)| t).collect()
    }

    fn find_slot(&mut self, serial: &str) -> TokenResult<(Slot, TokenSummary)> {
        let mut present = Vec::new();
        let mut unreadable = None;
        for (slot, t) in self.scan_settled()? {
            // Another key that cannot be read now (busy, or failing) does not hide this one.
            let t = match t {
                Ok(t) => t,
                Err(e) => {
                    unreadable = Some(e);
                    continue;
                }
            };
            // The token's serial as it reports it (lower case, padded) names the order's key编号.
            if crate::domain::KeySerial::new(&t.serial).is(serial) {
                return Ok((slot, t));
            }
            present.push(t.serial);
        }
        // The key asked for may be the one that could not be read: say that, not "not present".
        if let Some(e) = unreadable {
            return Err(e);
        }
        Err(TokenError::NotPresent {
            serial: serial.into(),
            present: if present.is_empty() { "无".into() } else { present.join(", ") },
        })
    }

    /// Opens (or re-uses) a read-write session on the token with this serial.
    fn session(&mut self, serial: &str) -> TokenResult<&Session> {
        let reuse = matches!(&self.session, Some((_, s, open)) if open == serial && s.get_session_info().is_ok());
        if !reuse {
            self.session = None;
            self.logged_in = false;
            let (slot, _) = self.find_slot(serial)?;
            let session = self.ctx.open_rw_session(slot)?;
            self.session = Some((slot, session, serial.to_string()));
        }
        match &self.session {
            Some((_, s, _)) => Ok(s),
            None => Err(TokenError::Removed),
        }
    }

    fn logged_in_session(&mut self, serial: &str) -> TokenResult<&Session> {
        let logged_in = self.logged_in;
        let s = self.session(serial)?;
        if !logged_in {
            return Err(TokenError::NotLoggedIn);
        }
        Ok(s)
    }

    /// Reads the token and its objects; private objects only when logged in.
    pub fn inspect(&mut self, serial: &str) -> TokenResult<TokenReport> {
        // Logged in to this key: its session names the slot (no lookup, which could restart the module).
        let held = match &self.session {
            Some((slot, s, open)) if self.logged_in && open == serial && s.get_session_info().is_ok() => Some(*slot),
            _ => None,
        };
        let (slot, token) = match held {
            Some(slot) => (slot, self.summary_settled(slot)?.ok_or(TokenError::Removed)?),
            None => self.find_slot(serial)?,
        };
        let logged_in = held.is_some();
        let objects = if logged_in {
            let s = self.session(serial)?;
            list_objects(s)?
        } else {
            let s = self.ctx.open_ro_session(slot)?;
            list_objects(&s)?
        };
        Ok(TokenReport { token, logged_in, objects })
    }

    /// Logs the user in. The caller has checked the PIN flags: never called on a final try or a lock.
    pub fn login(&mut self, serial: &str, pin: &str) -> TokenResult<()> {
        let s = self.session(serial)?;
        let secret = cryptoki::types::AuthPin::from(pin.to_string());
        match s.login(UserType::User, Some(&secret)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => return Err(e.into()),
        }
        self.logged_in = true;
        Ok(())
    }

    fn find(s: &Session, class: Class, id: &[u8]) -> TokenResult<Vec<ObjectHandle>> {
        Ok(s.find_objects(&[Attribute::Class(class.object_class()), Attribute::Id(id.to_vec())])?)
    }

    fn public_parts(s: &Session, handle: ObjectHandle) -> TokenResult<PublicKeyParts> {
        let attrs = s.get_attributes(
            handle,
            &[AttributeType::KeyType, AttributeType::Modulus, AttributeType::PublicExponent, AttributeType::EcPoint],
        )?;
        let mut modulus = None;
        let mut exponent = None;
        let mut point = None;
        for a in attrs {
            match a {
                Attribute::Modulus(m) => modulus = Some(m),
                Attribute::PublicExponent(e) => exponent = Some(e),
                Attribute::EcPoint(p) => point = Some(p),
                _ => {}
            }
        }
        match (modulus, exponent, point) {
            (Some(m), Some(e), _) => Ok(PublicKeyParts::Rsa { modulus: hex::encode(m), exponent: hex::encode(e) }),
            (_, _, Some(p)) => Ok(PublicKeyParts::Ec { point: hex::encode(p) }),
            _ => Err(TokenError::MissingObject("public key attributes".into())),
        }
    }

    /// The public key with this CKA_ID, if the pair exists (both halves).
    pub fn key_pair(&mut self, serial: &str, id: &[u8]) -> TokenResult<Option<PublicKeyParts>> {
        let s = self.logged_in_session(serial)?;
        let privs = Self::find(s, Class::PrivateKey, id)?;
        let pubs = Self::find(s, Class::PublicKey, id)?;
        match (privs.first(), pubs.first()) {
            (Some(_), Some(&p)) => Ok(Some(Self::public_parts(s, p)?)),
            _ => Ok(None),
        }
    }

    /// Generates a key pair with this CKA_ID and label; a complete pair already there is kept (a re-run
    /// after a crash), a half pair is removed first.
    pub fn generate_key_pair(
        &mut self,
        serial: &str,
        id: &[u8],
        label: &str,
        alg: KeyAlgorithm,
    ) -> TokenResult<(PublicKeyParts, bool)> {
        if let Some(existing) = self.key_pair(serial, id)? {
            return Ok((existing, true));
        }
        let s = self.logged_in_session(serial)?;
        for class in [Class::PrivateKey, Class::PublicKey] {
            for h in Self::find(s, class, id)? {
                s.destroy_object(h)?;
            }
        }
        let common =
            vec![Attribute::Token(true), Attribute::Id(id.to_vec()), Attribute::Label(label.as_bytes().to_vec())];
        let mut public = common.clone();
        public.push(Attribute::Verify(true));
        public.push(Attribute::Private(false));
        let mut private = common;
        private.extend([
            Attribute::Sign(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
        ]);
        let mechanism = match alg {
            KeyAlgorithm::Rsa { bits } => {
                public.push(Attribute::ModulusBits(u64::from(bits).into()));
                public.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
                Mechanism::RsaPkcsKeyPairGen
            }
            KeyAlgorithm::EcP256 => {
                // DER of OID 1.2.840.10045.3.1.7 (prime256v1).
                public.push(Attribute::EcParams(vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]));
                Mechanism::EccKeyPairGen
            }
        };
        let (pub_handle, _) = s.generate_key_pair(&mechanism, &public, &private)?;
        Ok((Self::public_parts(s, pub_handle)?, false))
    }

    /// Signs a prepared message with the private key of this CKA_ID: for RSA the DigestInfo (raw
    /// `CKM_RSA_PKCS`), for EC the hash (`CKM_ECDSA`, r‖s back). Hashing stays on the host: not every
    /// module (SoftHSM among them) offers the combined mechanisms.
    pub fn sign(&mut self, serial: &str, id: &[u8], message: &[u8]) -> TokenResult<Vec<u8>> {
        let s = self.logged_in_session(serial)?;
        let key = *Self::find(s, Class::PrivateKey, id)?
            .first()
            .ok_or_else(|| TokenError::MissingObject(format!("private key {}", hex::encode(id))))?;
        let key_type = s.get_attributes(key, &[AttributeType::KeyType])?;
        let mechanism = if key_type.iter().any(|a| matches!(a, Attribute::KeyType(k) if *k == KeyType::EC)) {
            Mechanism::Ecdsa
        } else {
            Mechanism::RsaPkcs
        };
        Ok(s.sign(&mechanism, key, message)?)
    }

    /// The DER of the certificate with this CKA_ID, if any.
    pub fn certificate(&mut self, serial: &str, id: &[u8]) -> TokenResult<Option<Vec<u8>>> {
        let s = self.session(serial)?;
        let Some(&h) = Self::find(s, Class::Certificate, id)?.first() else { return Ok(None) };
        Ok(s.get_attributes(h, &[AttributeType::Value])?.into_iter().find_map(|a| match a {
            Attribute::Value(v) => Some(v),
            _ => None,
        }))
    }

    /// Writes the certificate under this CKA_ID; one already there with other bytes is replaced, the
    /// same bytes are kept.
    pub fn write_certificate(&mut self, serial: &str, id: &[u8], label: &str, der: &[u8]) -> TokenResult<bool> {
        let facts = crate::ca::x509::parse_certificate(der).map_err(|e| TokenError::Pkcs11(e.to_string()))?;
        let s = self.logged_in_session(serial)?;
        let mut kept = false;
        for h in Self::find(s, Class::Certificate, id)? {
            let same = s
                .get_attributes(h, &[AttributeType::Value])?
                .iter()
                .any(|a| matches!(a, Attribute::Value(v) if v == der));
            if same && !kept {
                kept = true;
            } else {
                s.destroy_object(h)?;
            }
        }
        if kept {
            return Ok(false);
        }
        let serial_der = {
            use der::Encode;
            let bytes = hex::decode(if facts.serial.len() % 2 == 1 {
                format!("0{}", facts.serial)
            } else {
                facts.serial.clone()
            })
            .unwrap_or_default();
            let bytes =
                if bytes.first().is_some_and(|b| b & 0x80 != 0) { [&[0u8][..], &bytes].concat() } else { bytes };
            der::asn1::Int::new(&bytes).and_then(|i| i.to_der()).unwrap_or_default()
        };
        s.create_object(&[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Id(id.to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Subject(facts.subject_der.clone()),
            Attribute::Issuer(facts.issuer_der.clone()),
            Attribute::SerialNumber(serial_der),
            Attribute::Value(der.to_vec()),
        ])?;
        Ok(true)
    }

    /// Removes every object of these classes with this CKA_ID; returns how many went.
    pub fn destroy(&mut self, serial: &str, classes: &[Class], id: &[u8]) -> TokenResult<usize> {
        let s = self.logged_in_session(serial)?;
        let mut n = 0;
        for class in classes {
            for h in Self::find(s, *class, id)? {
                s.destroy_object(h)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Sets the label of every object of these classes with this CKA_ID.
    pub fn set_label(&mut self, serial: &str, classes: &[Class], id: &[u8], label: &str) -> TokenResult<()> {
        let s = self.logged_in_session(serial)?;
        for class in classes {
            for h in Self::find(s, *class, id)? {
                s.update_attributes(h, &[Attribute::Label(label.as_bytes().to_vec())])?;
            }
        }
        Ok(())
    }

    /// Creates a data object (demo seal images).
    pub fn create_data(&mut self, serial: &str, label: &str, application: &str, value: &[u8]) -> TokenResult<()> {
        let s = self.logged_in_session(serial)?;
        s.create_object(&[
            Attribute::Class(ObjectClass::DATA),
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Application(application.as_bytes().to_vec()),
            Attribute::Value(value.to_vec()),
        ])?;
        Ok(())
    }

    pub fn logout(&mut self) {
        if let Some((_, s, _)) = &self.session {
            let _ = s.logout();
        }
        self.session = None;
        self.logged_in = false;
    }
}

/// Attributes read for the listing and the byte-for-byte digest.
const DIGEST_ATTRIBUTES: [AttributeType; 20] = [
    AttributeType::Class,
    AttributeType::Token,
    AttributeType::Private,
    AttributeType::Modifiable,
    AttributeType::Label,
    AttributeType::Id,
    AttributeType::Application,
    AttributeType::ObjectId,
    AttributeType::Value,
    AttributeType::CertificateType,
    AttributeType::Subject,
    AttributeType::Issuer,
    AttributeType::SerialNumber,
    AttributeType::KeyType,
    AttributeType::Modulus,
    AttributeType::PublicExponent,
    AttributeType::EcParams,
    AttributeType::EcPoint,
    AttributeType::Sign,
    AttributeType::Decrypt,
];

fn list_objects(s: &Session) -> TokenResult<Vec<ObjectInfo>> {
    let mut out = Vec::new();
    for h in s.find_objects(&[])? {
        let attrs = s.get_attributes(h, &DIGEST_ATTRIBUTES)?;
        let mut hasher = Sha256::new();
        let mut info = ObjectInfo {
            class: String::new(),
            label: String::new(),
            id: String::new(),
            private: false,
            key_type: None,
            modulus_bits: None,
            value: None,
            application: None,
            digest: String::new(),
        };
        let mut is_cert = false;
        for a in &attrs {
            // Each attribute's type and raw bytes go into the digest, in a fixed order.
            hasher.update(format!("{:?}", a.attribute_type()).as_bytes());
            hasher.update(format!("{a:?}").as_bytes());
            match a {
                Attribute::Class(c) => {
                    info.class = class_name(*c);
                    is_cert = *c == ObjectClass::CERTIFICATE;
                }
                Attribute::Label(l) => info.label = String::from_utf8_lossy(l).into_owned(),
                Attribute::Id(id) => info.id = hex::encode(id),
                Attribute::Private(p) => info.private = *p,
                Attribute::KeyType(k) => {
                    info.key_type = Some(if *k == KeyType::RSA {
                        "rsa".into()
                    } else if *k == KeyType::EC {
                        "ec".into()
                    } else {
                        k.to_string()
                    })
                }
                Attribute::Modulus(m) => info.modulus_bits = Some(m.len() as u64 * 8),
                Attribute::Application(app) => info.application = Some(String::from_utf8_lossy(app).into_owned()),
                _ => {}
            }
        }
        if is_cert {
            info.value = attrs.iter().find_map(|a| match a {
                Attribute::Value(v) => Some(hex::encode(v)),
                _ => None,
            });
        }
        info.digest = hex::encode(hasher.finalize());
        out.push(info);
    }
    out.sort_by(|a, b| {
        (a.class.as_str(), a.id.as_str(), a.label.as_str()).cmp(&(b.class.as_str(), b.id.as_str(), b.label.as_str()))
    });
    Ok(out)
}
