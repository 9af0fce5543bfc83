//! The module's state and the PKCS#11 semantics: slots, sessions, login and the PIN counter,
//! objects and their visibility, SM2 key generation and signing. Every operation reads the token
//! file afresh (another process may have changed it) and writes it back under the slot's lock.

use crate::store::{configured_tries, PinHash, Store, StoredObject, TokenFile};
use crate::*;
use cryptoki_sys::*;
use std::collections::{BTreeMap, HashMap};

pub type Rv<T> = Result<T, CK_RV>;

pub enum SignOp {
    /// Raw SM2 on a 32-byte prehash e.
    Raw { secret: Vec<u8> },
    /// SM3-with-SM2: the token computes Z from the key and the ID, then e = SM3(Z‖M).
    Message { secret: Vec<u8>, id: String, data: Vec<u8> },
}

pub struct Session {
    pub slot: u64,
    pub rw: bool,
    pub find: Option<Vec<u64>>,
    pub sign: Option<SignOp>,
    pub digest: Option<Vec<u8>>,
}

pub struct Module {
    pub store: Store,
    pub sessions: HashMap<CK_SESSION_HANDLE, Session>,
    pub next_session: CK_SESSION_HANDLE,
    pub logins: HashMap<u64, CK_USER_TYPE>,
    /// Session objects (CKA_TOKEN false): handle → (session, slot, object).
    pub session_objects: HashMap<u64, (CK_SESSION_HANDLE, u64, StoredObject)>,
    pub next_session_object: u64,
}

const SESSION_OBJECT_BASE: u64 = 1 << 40;

fn handle_of(slot: u64, n: u64) -> u64 {
    (slot << 24) | n
}

pub fn ulong(v: CK_ULONG) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}
pub fn bool_(v: bool) -> Vec<u8> {
    vec![v as u8]
}
fn as_ulong(v: &[u8]) -> Option<CK_ULONG> {
    Some(CK_ULONG::from_ne_bytes(v.try_into().ok()?))
}
fn as_bool(v: &[u8]) -> Option<bool> {
    match v {
        [b] => Some(*b != 0),
        _ => None,
    }
}

pub struct Obj {
    pub handle: u64,
    pub attrs: BTreeMap<u64, Vec<u8>>,
    pub secret: Option<Vec<u8>>,
}

impl Obj {
    fn from_stored(o: &StoredObject) -> Obj {
        Obj {
            handle: o.handle,
            attrs: o.attrs.iter().map(|(k, v)| (*k, hex::decode(v).unwrap_or_default())).collect(),
            secret: o.sm2_secret.as_ref().and_then(|s| hex::decode(s).ok()),
        }
    }
    fn to_stored(&self) -> StoredObject {
        StoredObject {
            handle: self.handle,
            attrs: self.attrs.iter().map(|(k, v)| (*k, hex::encode(v))).collect(),
            sm2_secret: self.secret.as_ref().map(hex::encode),
        }
    }
    pub fn flag(&self, t: CK_ATTRIBUTE_TYPE) -> bool {
        self.attrs.get(&t).and_then(|v| as_bool(v)).unwrap_or(false)
    }
    pub fn class(&self) -> Option<CK_ULONG> {
        self.attrs.get(&CKA_CLASS).and_then(|v| as_ulong(v))
    }
}

pub fn pad<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [b' '; N];
    let b = s.as_bytes();
    out[..b.len().min(N)].copy_from_slice(&b[..b.len().min(N)]);
    out
}

fn check_pin_len(pin: &[u8]) -> Rv<()> {
    if (MIN_PIN..=MAX_PIN).contains(&pin.len()) {
        Ok(())
    } else {
        Err(CKR_PIN_LEN_RANGE)
    }
}

/// Attributes an application may give when it creates an object, per class.
fn allowed(class: CK_ULONG, t: CK_ATTRIBUTE_TYPE) -> bool {
    let common = [CKA_CLASS, CKA_TOKEN, CKA_PRIVATE, CKA_MODIFIABLE, CKA_LABEL];
    let data = [CKA_APPLICATION, CKA_OBJECT_ID, CKA_VALUE];
    let cert = [
        CKA_CERTIFICATE_TYPE,
        CKA_TRUSTED,
        CKA_CERTIFICATE_CATEGORY,
        CKA_CHECK_VALUE,
        CKA_START_DATE,
        CKA_END_DATE,
        CKA_SUBJECT,
        CKA_ID,
        CKA_ISSUER,
        CKA_SERIAL_NUMBER,
        CKA_VALUE,
        CKA_URL,
        CKA_HASH_OF_SUBJECT_PUBLIC_KEY,
        CKA_HASH_OF_ISSUER_PUBLIC_KEY,
        CKA_JAVA_MIDP_SECURITY_DOMAIN,
        CKA_PUBLIC_KEY_INFO,
    ];
    common.contains(&t)
        || match class {
            CKO_DATA => data.contains(&t),
            CKO_CERTIFICATE => cert.contains(&t),
            _ => false,
        }
}

const BOOL_ATTRS: [CK_ATTRIBUTE_TYPE; 5] = [CKA_TOKEN, CKA_PRIVATE, CKA_MODIFIABLE, CKA_TRUSTED, CKA_SIGN];

impl Module {
    pub fn new(store: Store) -> Module {
        Module {
            store,
            sessions: HashMap::new(),
            next_session: 1,
            logins: HashMap::new(),
            session_objects: HashMap::new(),
            next_session_object: 1,
        }
    }

    pub fn slots(&self) -> Vec<u64> {
        let mut s = self.store.token_slots();
        s.push(self.store.empty_slot());
        s
    }

    pub fn check_slot(&self, slot: u64) -> Rv<()> {
        if self.slots().contains(&slot) {
            Ok(())
        } else {
            Err(CKR_SLOT_ID_INVALID)
        }
    }

    pub fn token(&self, slot: u64) -> Rv<Option<TokenFile>> {
        self.store.read(slot).map_err(|()| CKR_DEVICE_ERROR)
    }

    fn token_present(&self, slot: u64) -> Rv<TokenFile> {
        self.token(slot)?.ok_or(CKR_TOKEN_NOT_RECOGNIZED)
    }

    /// Read-modify-write of one token under its lock.
    fn update<T>(&self, slot: u64, f: impl FnOnce(&mut TokenFile) -> Rv<(T, bool)>) -> Rv<T> {
        let lock = self.store.lock(slot).map_err(|_| CKR_DEVICE_ERROR)?;
        let mut t = self.token(slot)?.ok_or(CKR_TOKEN_NOT_RECOGNIZED)?;
        let (out, changed) = f(&mut t)?;
        if changed {
            self.store.write(slot, &t, &lock).map_err(|_| CKR_DEVICE_ERROR)?;
        }
        Ok(out)
    }

    pub fn session(&mut self, h: CK_SESSION_HANDLE) -> Rv<&mut Session> {
        self.sessions.get_mut(&h).ok_or(CKR_SESSION_HANDLE_INVALID)
    }

    fn user_of(&self, slot: u64) -> Option<CK_USER_TYPE> {
        self.logins.get(&slot).copied()
    }

    pub fn token_info(&self, slot: u64) -> Rv<CK_TOKEN_INFO> {
        self.check_slot(slot)?;
        let t = self.token(slot)?;
        let sessions = self.sessions.values().filter(|s| s.slot == slot);
        let rw = sessions.clone().filter(|s| s.rw).count();
        let mut flags = CKF_RNG | CKF_LOGIN_REQUIRED;
        if let Some(t) = &t {
            flags |= CKF_TOKEN_INITIALIZED;
            if t.user_pin.is_some() {
                flags |= CKF_USER_PIN_INITIALIZED;
                let left = t.user_tries_left;
                if left == 0 {
                    flags |= CKF_USER_PIN_LOCKED;
                } else {
                    if left < t.max_tries {
                        flags |= CKF_USER_PIN_COUNT_LOW;
                    }
                    if left == 1 {
                        flags |= CKF_USER_PIN_FINAL_TRY;
                    }
                }
            }
        }
        let (label, serial) = t.as_ref().map(|t| (t.label.as_str(), t.serial.as_str())).unwrap_or(("", ""));
        Ok(CK_TOKEN_INFO {
            label: pad(label),
            manufacturerID: pad(MANUFACTURER),
            model: pad(MODEL),
            serialNumber: pad(serial),
            flags,
            ulMaxSessionCount: CK_EFFECTIVELY_INFINITE,
            ulSessionCount: sessions.count() as CK_ULONG,
            ulMaxRwSessionCount: CK_EFFECTIVELY_INFINITE,
            ulRwSessionCount: rw as CK_ULONG,
            ulMaxPinLen: MAX_PIN as CK_ULONG,
            ulMinPinLen: MIN_PIN as CK_ULONG,
            ulTotalPublicMemory: CK_UNAVAILABLE_INFORMATION,
            ulFreePublicMemory: CK_UNAVAILABLE_INFORMATION,
            ulTotalPrivateMemory: CK_UNAVAILABLE_INFORMATION,
            ulFreePrivateMemory: CK_UNAVAILABLE_INFORMATION,
            hardwareVersion: CK_VERSION { major: 1, minor: 0 },
            firmwareVersion: CK_VERSION { major: 1, minor: 0 },
            utcTime: [b' '; 16],
        })
    }

    pub fn init_token(&mut self, slot: u64, so_pin: &[u8], label: &str) -> Rv<()> {
        self.check_slot(slot)?;
        check_pin_len(so_pin)?;
        if self.sessions.values().any(|s| s.slot == slot) {
            return Err(CKR_SESSION_EXISTS);
        }
        let lock = self.store.lock(slot).map_err(|_| CKR_DEVICE_ERROR)?;
        let token = match self.token(slot)? {
            Some(mut t) => {
                // Re-initialising: the SO PIN must match; the serial (the chip's) stays.
                if !t.so_pin.matches(so_pin) {
                    return Err(CKR_PIN_INCORRECT);
                }
                t.label = label.into();
                t.user_pin = None;
                t.objects.clear();
                t.max_tries = configured_tries();
                t.user_tries_left = t.max_tries;
                t
            }
            None => {
                let mut raw = [0u8; 8];
                getrandom::getrandom(&mut raw).map_err(|_| CKR_DEVICE_ERROR)?;
                let tries = configured_tries();
                TokenFile {
                    label: label.into(),
                    serial: hex::encode_upper(raw),
                    so_pin: PinHash::new(so_pin),
                    user_pin: None,
                    max_tries: tries,
                    user_tries_left: tries,
                    next_object: 1,
                    objects: Vec::new(),
                }
            }
        };
        self.store.write(slot, &token, &lock).map_err(|_| CKR_DEVICE_ERROR)
    }

    pub fn open_session(&mut self, slot: u64, flags: CK_FLAGS) -> Rv<CK_SESSION_HANDLE> {
        self.check_slot(slot)?;
        if flags & CKF_SERIAL_SESSION == 0 {
            return Err(CKR_SESSION_PARALLEL_NOT_SUPPORTED);
        }
        self.token_present(slot)?;
        let rw = flags & CKF_RW_SESSION != 0;
        if !rw && self.user_of(slot) == Some(CKU_SO) {
            return Err(CKR_SESSION_READ_WRITE_SO_EXISTS);
        }
        let h = self.next_session;
        self.next_session += 1;
        self.sessions.insert(h, Session { slot, rw, find: None, sign: None, digest: None });
        Ok(h)
    }

    pub fn close_session(&mut self, h: CK_SESSION_HANDLE) -> Rv<()> {
        let s = self.sessions.remove(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        self.session_objects.retain(|_, (owner, _, _)| *owner != h);
        if !self.sessions.values().any(|o| o.slot == s.slot) {
            self.logins.remove(&s.slot);
        }
        Ok(())
    }

    pub fn session_state(&self, h: CK_SESSION_HANDLE) -> Rv<CK_SESSION_INFO> {
        let s = self.sessions.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        let state = match (self.user_of(s.slot), s.rw) {
            (Some(CKU_SO), _) => CKS_RW_SO_FUNCTIONS,
            (Some(_), true) => CKS_RW_USER_FUNCTIONS,
            (Some(_), false) => CKS_RO_USER_FUNCTIONS,
            (None, true) => CKS_RW_PUBLIC_SESSION,
            (None, false) => CKS_RO_PUBLIC_SESSION,
        };
        let flags = CKF_SERIAL_SESSION | if s.rw { CKF_RW_SESSION } else { 0 };
        Ok(CK_SESSION_INFO { slotID: s.slot as CK_SLOT_ID, state, flags, ulDeviceError: 0 })
    }

    pub fn login(&mut self, h: CK_SESSION_HANDLE, user: CK_USER_TYPE, pin: &[u8]) -> Rv<()> {
        let slot = self.session(h)?.slot;
        match (user, self.user_of(slot)) {
            (CKU_USER | CKU_SO, Some(u)) if u == user => return Err(CKR_USER_ALREADY_LOGGED_IN),
            (CKU_USER | CKU_SO, Some(_)) => return Err(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
            (CKU_USER | CKU_SO, None) => {}
            _ => return Err(CKR_USER_TYPE_INVALID),
        }
        if user == CKU_SO && self.sessions.values().any(|s| s.slot == slot && !s.rw) {
            return Err(CKR_SESSION_READ_ONLY_EXISTS);
        }
        self.update(slot, |t| {
            if user == CKU_SO {
                return if t.so_pin.matches(pin) { Ok((Ok(()), false)) } else { Err(CKR_PIN_INCORRECT) };
            }
            let stored = t.user_pin.as_ref().ok_or(CKR_USER_PIN_NOT_INITIALIZED)?;
            if t.user_tries_left == 0 {
                return Err(CKR_PIN_LOCKED);
            }
            if stored.matches(pin) {
                let changed = t.user_tries_left != t.max_tries;
                t.user_tries_left = t.max_tries;
                Ok((Ok(()), changed))
            } else {
                // The wrong try is counted on the token before the answer goes back.
                t.user_tries_left -= 1;
                Ok((Err(CKR_PIN_INCORRECT), true))
            }
        })??;
        self.logins.insert(slot, user);
        Ok(())
    }

    pub fn logout(&mut self, h: CK_SESSION_HANDLE) -> Rv<()> {
        let slot = self.session(h)?.slot;
        self.logins.remove(&slot).map(|_| ()).ok_or(CKR_USER_NOT_LOGGED_IN)
    }

    pub fn init_pin(&mut self, h: CK_SESSION_HANDLE, pin: &[u8]) -> Rv<()> {
        let s = self.session(h)?;
        let (slot, rw) = (s.slot, s.rw);
        if !rw {
            return Err(CKR_SESSION_READ_ONLY);
        }
        if self.user_of(slot) != Some(CKU_SO) {
            return Err(CKR_USER_NOT_LOGGED_IN);
        }
        check_pin_len(pin)?;
        self.update(slot, |t| {
            t.user_pin = Some(PinHash::new(pin));
            t.user_tries_left = t.max_tries;
            Ok(((), true))
        })
    }

    pub fn set_pin(&mut self, h: CK_SESSION_HANDLE, old: &[u8], new: &[u8]) -> Rv<()> {
        let s = self.session(h)?;
        let (slot, rw) = (s.slot, s.rw);
        if !rw {
            return Err(CKR_SESSION_READ_ONLY);
        }
        check_pin_len(new)?;
        let so = self.user_of(slot) == Some(CKU_SO);
        self.update(slot, |t| {
            if so {
                if !t.so_pin.matches(old) {
                    return Err(CKR_PIN_INCORRECT);
                }
                t.so_pin = PinHash::new(new);
                return Ok((Ok(()), true));
            }
            let stored = t.user_pin.as_ref().ok_or(CKR_USER_PIN_NOT_INITIALIZED)?;
            if t.user_tries_left == 0 {
                return Err(CKR_PIN_LOCKED);
            }
            if !stored.matches(old) {
                t.user_tries_left -= 1;
                return Ok((Err(CKR_PIN_INCORRECT), true));
            }
            t.user_pin = Some(PinHash::new(new));
            t.user_tries_left = t.max_tries;
            Ok((Ok(()), true))
        })?
    }

    /// Every object of the session's token it may see (private ones only after user login).
    fn visible(&self, h: CK_SESSION_HANDLE) -> Rv<Vec<Obj>> {
        let slot = self.sessions.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?.slot;
        let user = self.user_of(slot) == Some(CKU_USER);
        let t = self.token_present(slot)?;
        let mut out: Vec<Obj> = t.objects.iter().map(Obj::from_stored).collect();
        out.extend(self.session_objects.values().filter(|(_, s, _)| *s == slot).map(|(_, _, o)| Obj::from_stored(o)));
        out.retain(|o| user || !o.flag(CKA_PRIVATE));
        Ok(out)
    }

    pub fn object(&self, h: CK_SESSION_HANDLE, handle: u64) -> Rv<Obj> {
        self.visible(h)?.into_iter().find(|o| o.handle == handle).ok_or(CKR_OBJECT_HANDLE_INVALID)
    }

    pub fn find_init(&mut self, h: CK_SESSION_HANDLE, template: Vec<(u64, Vec<u8>)>) -> Rv<()> {
        if self.session(h)?.find.is_some() {
            return Err(CKR_OPERATION_ACTIVE);
        }
        let found = self
            .visible(h)?
            .into_iter()
            .filter(|o| template.iter().all(|(t, v)| o.attrs.get(t) == Some(v)))
            .map(|o| o.handle)
            .collect();
        self.session(h)?.find = Some(found);
        Ok(())
    }

    /// Stores a new object (token or session) and returns its handle.
    fn insert(&mut self, h: CK_SESSION_HANDLE, objs: Vec<Obj>) -> Rv<Vec<u64>> {
        let s = self.sessions.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        let (slot, rw) = (s.slot, s.rw);
        let mut handles = Vec::new();
        for mut o in objs {
            if o.flag(CKA_TOKEN) {
                if !rw {
                    return Err(CKR_SESSION_READ_ONLY);
                }
                let hd = self.update(slot, |t| {
                    let hd = handle_of(slot, t.next_object);
                    t.next_object += 1;
                    o.handle = hd;
                    t.objects.push(o.to_stored());
                    Ok((hd, true))
                })?;
                handles.push(hd);
            } else {
                let hd = SESSION_OBJECT_BASE | self.next_session_object;
                self.next_session_object += 1;
                o.handle = hd;
                self.session_objects.insert(hd, (h, slot, o.to_stored()));
                handles.push(hd);
            }
        }
        Ok(handles)
    }

    fn check_write(&self, h: CK_SESSION_HANDLE, token_obj: bool, private: bool) -> Rv<u64> {
        let s = self.sessions.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        if token_obj && !s.rw {
            return Err(CKR_SESSION_READ_ONLY);
        }
        if private && self.user_of(s.slot) != Some(CKU_USER) {
            return Err(CKR_USER_NOT_LOGGED_IN);
        }
        Ok(s.slot)
    }

    pub fn create_object(&mut self, h: CK_SESSION_HANDLE, template: Vec<(u64, Vec<u8>)>) -> Rv<u64> {
        let mut attrs = BTreeMap::new();
        for (t, v) in template {
            if BOOL_ATTRS.contains(&t) && as_bool(&v).is_none() {
                return Err(CKR_ATTRIBUTE_VALUE_INVALID);
            }
            if attrs.insert(t, v).is_some() {
                return Err(CKR_TEMPLATE_INCONSISTENT);
            }
        }
        let class = attrs.get(&CKA_CLASS).and_then(|v| as_ulong(v)).ok_or(CKR_TEMPLATE_INCOMPLETE)?;
        if class != CKO_DATA && class != CKO_CERTIFICATE {
            // Keys are generated on the token, never imported.
            return Err(CKR_ATTRIBUTE_VALUE_INVALID);
        }
        if attrs.keys().any(|t| !allowed(class, *t)) {
            return Err(CKR_ATTRIBUTE_TYPE_INVALID);
        }
        if class == CKO_CERTIFICATE && !attrs.contains_key(&CKA_CERTIFICATE_TYPE) {
            return Err(CKR_TEMPLATE_INCOMPLETE);
        }
        attrs.entry(CKA_TOKEN).or_insert_with(|| bool_(false));
        attrs.entry(CKA_PRIVATE).or_insert_with(|| bool_(false));
        attrs.entry(CKA_MODIFIABLE).or_insert_with(|| bool_(true));
        attrs.entry(CKA_LABEL).or_default();
        if class == CKO_DATA {
            attrs.entry(CKA_APPLICATION).or_default();
            attrs.entry(CKA_VALUE).or_default();
        }
        let o = Obj { handle: 0, attrs, secret: None };
        self.check_write(h, o.flag(CKA_TOKEN), o.flag(CKA_PRIVATE))?;
        Ok(self.insert(h, vec![o])?[0])
    }

    pub fn destroy_object(&mut self, h: CK_SESSION_HANDLE, handle: u64) -> Rv<()> {
        let o = self.object(h, handle)?;
        let slot = self.check_write(h, o.flag(CKA_TOKEN), o.flag(CKA_PRIVATE))?;
        if handle & SESSION_OBJECT_BASE != 0 {
            self.session_objects.remove(&handle);
            return Ok(());
        }
        self.update(slot, |t| {
            let before = t.objects.len();
            t.objects.retain(|x| x.handle != handle);
            if t.objects.len() == before {
                return Err(CKR_OBJECT_HANDLE_INVALID);
            }
            Ok(((), true))
        })
    }

    pub fn set_attributes(&mut self, h: CK_SESSION_HANDLE, handle: u64, template: Vec<(u64, Vec<u8>)>) -> Rv<()> {
        let o = self.object(h, handle)?;
        let slot = self.check_write(h, o.flag(CKA_TOKEN), o.flag(CKA_PRIVATE))?;
        if !o.flag(CKA_MODIFIABLE) {
            return Err(CKR_ACTION_PROHIBITED);
        }
        if let Some((t, _)) = template.iter().find(|(t, _)| *t != CKA_LABEL && *t != CKA_ID) {
            return Err(if o.attrs.contains_key(t) { CKR_ATTRIBUTE_READ_ONLY } else { CKR_ATTRIBUTE_TYPE_INVALID });
        }
        if handle & SESSION_OBJECT_BASE != 0 {
            if let Some((_, _, so)) = self.session_objects.get_mut(&handle) {
                for (t, v) in &template {
                    so.attrs.insert(*t, hex::encode(v));
                }
            }
            return Ok(());
        }
        self.update(slot, |t| {
            let so = t.objects.iter_mut().find(|x| x.handle == handle).ok_or(CKR_OBJECT_HANDLE_INVALID)?;
            for (ty, v) in &template {
                so.attrs.insert(*ty, hex::encode(v));
            }
            Ok(((), true))
        })
    }

    pub fn generate_key_pair(
        &mut self,
        h: CK_SESSION_HANDLE,
        public: Vec<(u64, Vec<u8>)>,
        private: Vec<(u64, Vec<u8>)>,
    ) -> Rv<(u64, u64)> {
        let get = |tpl: &[(u64, Vec<u8>)], t: u64| tpl.iter().find(|(x, _)| *x == t).map(|(_, v)| v.clone());
        let flag = |tpl: &[(u64, Vec<u8>)], t: u64, d: bool| -> Rv<bool> {
            match get(tpl, t) {
                None => Ok(d),
                Some(v) => as_bool(&v).ok_or(CKR_ATTRIBUTE_VALUE_INVALID),
            }
        };
        if let Some(p) = get(&public, CKA_EC_PARAMS) {
            if p != SM2_EC_PARAMS {
                return Err(CKR_DOMAIN_PARAMS_INVALID);
            }
        }
        // A UKey's private key is never extractable: refuse a template that asks otherwise.
        if !flag(&private, CKA_SENSITIVE, true)? || flag(&private, CKA_EXTRACTABLE, false)? {
            return Err(CKR_TEMPLATE_INCONSISTENT);
        }
        let pub_token = flag(&public, CKA_TOKEN, false)?;
        let priv_token = flag(&private, CKA_TOKEN, false)?;
        let pub_private = flag(&public, CKA_PRIVATE, false)?;
        self.check_write(h, pub_token || priv_token, true)?;
        let (secret, point) = crypto::generate();
        let ec_point = crypto::ec_point_der(&point);
        let mut common = BTreeMap::new();
        common.insert(CKA_KEY_TYPE, ulong(CKK_SM2));
        common.insert(CKA_EC_PARAMS, SM2_EC_PARAMS.to_vec());
        common.insert(CKA_LOCAL, bool_(true));
        common.insert(CKA_KEY_GEN_MECHANISM, ulong(CKM_SM2_KEY_PAIR_GEN));
        common.insert(CKA_MODIFIABLE, bool_(true));
        common.insert(CKA_DERIVE, bool_(false));
        common.insert(CKA_EC_POINT, ec_point);
        let mut pubk = common.clone();
        pubk.insert(CKA_CLASS, ulong(CKO_PUBLIC_KEY));
        pubk.insert(CKA_TOKEN, bool_(pub_token));
        pubk.insert(CKA_PRIVATE, bool_(pub_private));
        pubk.insert(CKA_LABEL, get(&public, CKA_LABEL).unwrap_or_default());
        pubk.insert(CKA_ID, get(&public, CKA_ID).unwrap_or_default());
        pubk.insert(CKA_VERIFY, bool_(flag(&public, CKA_VERIFY, true)?));
        pubk.insert(CKA_ENCRYPT, bool_(flag(&public, CKA_ENCRYPT, false)?));
        let mut privk = common;
        privk.insert(CKA_CLASS, ulong(CKO_PRIVATE_KEY));
        privk.insert(CKA_TOKEN, bool_(priv_token));
        privk.insert(CKA_PRIVATE, bool_(flag(&private, CKA_PRIVATE, true)?));
        privk.insert(CKA_LABEL, get(&private, CKA_LABEL).unwrap_or_default());
        privk.insert(CKA_ID, get(&private, CKA_ID).unwrap_or_default());
        privk.insert(CKA_SIGN, bool_(flag(&private, CKA_SIGN, true)?));
        privk.insert(CKA_DECRYPT, bool_(flag(&private, CKA_DECRYPT, false)?));
        privk.insert(CKA_SENSITIVE, bool_(true));
        privk.insert(CKA_ALWAYS_SENSITIVE, bool_(true));
        privk.insert(CKA_EXTRACTABLE, bool_(false));
        privk.insert(CKA_NEVER_EXTRACTABLE, bool_(true));
        // The private key's CKA_VALUE exists and is sensitive: asked, it answers CKR_ATTRIBUTE_SENSITIVE.
        privk.insert(CKA_VALUE, Vec::new());
        let objs =
            vec![Obj { handle: 0, attrs: pubk, secret: None }, Obj { handle: 0, attrs: privk, secret: Some(secret) }];
        let hs = self.insert(h, objs)?;
        Ok((hs[0], hs[1]))
    }
}
