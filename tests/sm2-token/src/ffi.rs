//! The C ABI: each exported function checks its pointers, takes the module lock, and runs inside
//! `catch_unwind` (a panic answers CKR_GENERAL_ERROR and never crosses the FFI boundary).

#![allow(non_snake_case)]

use crate::store::Store;
use crate::token::{Module, Rv, SignOp};
use crate::*;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

static STATE: Mutex<Option<Module>> = Mutex::new(None);

fn guard(f: impl FnOnce() -> Rv<()>) -> CK_RV {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => CKR_OK,
        Ok(Err(rv)) => rv,
        Err(_) => CKR_GENERAL_ERROR,
    }
}

fn with(f: impl FnOnce(&mut Module) -> Rv<()>) -> CK_RV {
    guard(|| {
        let mut state = STATE.lock().unwrap_or_else(|p| p.into_inner());
        let m = state.as_mut().ok_or(CKR_CRYPTOKI_NOT_INITIALIZED)?;
        f(m)
    })
}

unsafe fn bytes<'a>(p: *const CK_BYTE, len: CK_ULONG) -> Rv<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    Ok(std::slice::from_raw_parts(p, len as usize))
}

unsafe fn template(p: *const CK_ATTRIBUTE, n: CK_ULONG) -> Rv<Vec<(u64, Vec<u8>)>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    std::slice::from_raw_parts(p, n as usize)
        .iter()
        .map(|a| Ok((a.type_, bytes(a.pValue as *const CK_BYTE, a.ulValueLen)?.to_vec())))
        .collect()
}

/// The size-query protocol for an output buffer: null asks the length; too small says so.
unsafe fn output(data: &[u8], p: *mut CK_BYTE, len: *mut CK_ULONG) -> Rv<bool> {
    if len.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    if p.is_null() {
        *len = data.len() as CK_ULONG;
        return Ok(false);
    }
    if (*len as usize) < data.len() {
        *len = data.len() as CK_ULONG;
        return Err(CKR_BUFFER_TOO_SMALL);
    }
    std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len());
    *len = data.len() as CK_ULONG;
    Ok(true)
}

unsafe fn list<T: Copy>(items: &[T], p: *mut T, count: *mut CK_ULONG) -> Rv<()> {
    if count.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    if p.is_null() {
        *count = items.len() as CK_ULONG;
        return Ok(());
    }
    if (*count as usize) < items.len() {
        *count = items.len() as CK_ULONG;
        return Err(CKR_BUFFER_TOO_SMALL);
    }
    std::ptr::copy_nonoverlapping(items.as_ptr(), p, items.len());
    *count = items.len() as CK_ULONG;
    Ok(())
}

pub unsafe extern "C" fn C_Initialize(args: *mut c_void) -> CK_RV {
    guard(|| {
        if !args.is_null() {
            let a = &*(args as *const CK_C_INITIALIZE_ARGS);
            if !a.pReserved.is_null() {
                return Err(CKR_ARGUMENTS_BAD);
            }
        }
        let mut state = STATE.lock().unwrap_or_else(|p| p.into_inner());
        if state.is_some() {
            return Err(CKR_CRYPTOKI_ALREADY_INITIALIZED);
        }
        // Without KEYDESK_SM2_TOKEN_DIR the module has nowhere to keep its tokens.
        let store = Store::from_env().ok_or(CKR_GENERAL_ERROR)?;
        *state = Some(Module::new(store));
        Ok(())
    })
}

pub unsafe extern "C" fn C_Finalize(reserved: *mut c_void) -> CK_RV {
    guard(|| {
        if !reserved.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        let mut state = STATE.lock().unwrap_or_else(|p| p.into_inner());
        state.take().map(|_| ()).ok_or(CKR_CRYPTOKI_NOT_INITIALIZED)
    })
}

pub unsafe extern "C" fn C_GetInfo(info: *mut CK_INFO) -> CK_RV {
    with(|_| {
        if info.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        *info = CK_INFO {
            cryptokiVersion: CK_VERSION { major: 2, minor: 40 },
            manufacturerID: token::pad(MANUFACTURER),
            flags: 0,
            libraryDescription: token::pad("keydesk SM2 test token"),
            libraryVersion: CK_VERSION { major: 0, minor: 1 },
        };
        Ok(())
    })
}

pub unsafe extern "C" fn C_GetSlotList(_present: CK_BBOOL, p: *mut CK_SLOT_ID, count: *mut CK_ULONG) -> CK_RV {
    // Every slot has a token present (the last one's is not initialised yet).
    with(|m| list(&m.slots().iter().map(|s| *s as CK_SLOT_ID).collect::<Vec<_>>(), p, count))
}

pub unsafe extern "C" fn C_GetSlotInfo(slot: CK_SLOT_ID, info: *mut CK_SLOT_INFO) -> CK_RV {
    with(|m| {
        m.check_slot(slot)?;
        if info.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        *info = CK_SLOT_INFO {
            slotDescription: token::pad(&format!("keydesk SM2 test slot {slot}")),
            manufacturerID: token::pad(MANUFACTURER),
            flags: CKF_TOKEN_PRESENT | CKF_REMOVABLE_DEVICE | CKF_HW_SLOT,
            hardwareVersion: CK_VERSION { major: 1, minor: 0 },
            firmwareVersion: CK_VERSION { major: 1, minor: 0 },
        };
        Ok(())
    })
}

pub unsafe extern "C" fn C_GetTokenInfo(slot: CK_SLOT_ID, info: *mut CK_TOKEN_INFO) -> CK_RV {
    with(|m| {
        if info.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        *info = m.token_info(slot)?;
        Ok(())
    })
}

pub unsafe extern "C" fn C_GetMechanismList(
    slot: CK_SLOT_ID,
    p: *mut CK_MECHANISM_TYPE,
    count: *mut CK_ULONG,
) -> CK_RV {
    with(|m| {
        m.check_slot(slot)?;
        list(&MECHANISMS.map(|(t, _)| t), p, count)
    })
}

pub unsafe extern "C" fn C_GetMechanismInfo(
    slot: CK_SLOT_ID,
    t: CK_MECHANISM_TYPE,
    info: *mut CK_MECHANISM_INFO,
) -> CK_RV {
    with(|m| {
        m.check_slot(slot)?;
        if info.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        let (_, flags) = MECHANISMS.iter().find(|(x, _)| *x == t).ok_or(CKR_MECHANISM_INVALID)?;
        let size = if t == CKM_SM3_HASH { 0 } else { 256 };
        *info = CK_MECHANISM_INFO { ulMinKeySize: size, ulMaxKeySize: size, flags: *flags };
        Ok(())
    })
}

pub unsafe extern "C" fn C_InitToken(
    slot: CK_SLOT_ID,
    pin: *mut CK_UTF8CHAR,
    len: CK_ULONG,
    label: *mut CK_UTF8CHAR,
) -> CK_RV {
    with(|m| {
        let pin = bytes(pin, len)?;
        let label = bytes(label, 32)?;
        let label = String::from_utf8_lossy(label).trim_end_matches(' ').to_string();
        m.init_token(slot, pin, &label)
    })
}

pub unsafe extern "C" fn C_InitPIN(h: CK_SESSION_HANDLE, pin: *mut CK_UTF8CHAR, len: CK_ULONG) -> CK_RV {
    with(|m| m.init_pin(h, bytes(pin, len)?))
}

pub unsafe extern "C" fn C_SetPIN(
    h: CK_SESSION_HANDLE,
    old: *mut CK_UTF8CHAR,
    old_len: CK_ULONG,
    new: *mut CK_UTF8CHAR,
    new_len: CK_ULONG,
) -> CK_RV {
    with(|m| m.set_pin(h, bytes(old, old_len)?, bytes(new, new_len)?))
}

pub unsafe extern "C" fn C_OpenSession(
    slot: CK_SLOT_ID,
    flags: CK_FLAGS,
    _app: *mut c_void,
    _notify: CK_NOTIFY,
    out: *mut CK_SESSION_HANDLE,
) -> CK_RV {
    with(|m| {
        if out.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        *out = m.open_session(slot, flags)?;
        Ok(())
    })
}

pub unsafe extern "C" fn C_CloseSession(h: CK_SESSION_HANDLE) -> CK_RV {
    with(|m| m.close_session(h))
}

pub unsafe extern "C" fn C_CloseAllSessions(slot: CK_SLOT_ID) -> CK_RV {
    with(|m| {
        m.check_slot(slot)?;
        let hs: Vec<_> = m.sessions.iter().filter(|(_, s)| s.slot == slot).map(|(h, _)| *h).collect();
        for h in hs {
            m.close_session(h)?;
        }
        Ok(())
    })
}

pub unsafe extern "C" fn C_GetSessionInfo(h: CK_SESSION_HANDLE, info: *mut CK_SESSION_INFO) -> CK_RV {
    with(|m| {
        if info.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        *info = m.session_state(h)?;
        Ok(())
    })
}

pub unsafe extern "C" fn C_Login(
    h: CK_SESSION_HANDLE,
    user: CK_USER_TYPE,
    pin: *mut CK_UTF8CHAR,
    len: CK_ULONG,
) -> CK_RV {
    with(|m| m.login(h, user, bytes(pin, len)?))
}

pub unsafe extern "C" fn C_Logout(h: CK_SESSION_HANDLE) -> CK_RV {
    with(|m| m.logout(h))
}

pub unsafe extern "C" fn C_CreateObject(
    h: CK_SESSION_HANDLE,
    t: *mut CK_ATTRIBUTE,
    n: CK_ULONG,
    out: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    with(|m| {
        if out.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        *out = m.create_object(h, template(t, n)?)?;
        Ok(())
    })
}

pub unsafe extern "C" fn C_DestroyObject(h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE) -> CK_RV {
    with(|m| m.destroy_object(h, o))
}

pub unsafe extern "C" fn C_GetAttributeValue(
    h: CK_SESSION_HANDLE,
    o: CK_OBJECT_HANDLE,
    t: *mut CK_ATTRIBUTE,
    n: CK_ULONG,
) -> CK_RV {
    with(|m| {
        let obj = m.object(h, o)?;
        if n > 0 && t.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        let secret_key = obj.class() == Some(CKO_PRIVATE_KEY);
        let mut rv = CKR_OK;
        for a in std::slice::from_raw_parts_mut(t, n as usize) {
            match obj.attrs.get(&a.type_) {
                None => {
                    a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                    rv = CKR_ATTRIBUTE_TYPE_INVALID;
                }
                Some(_) if secret_key && a.type_ == CKA_VALUE => {
                    a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                    rv = CKR_ATTRIBUTE_SENSITIVE;
                }
                Some(v) if a.pValue.is_null() => a.ulValueLen = v.len() as CK_ULONG,
                Some(v) if (a.ulValueLen as usize) < v.len() => {
                    a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                    rv = CKR_BUFFER_TOO_SMALL;
                }
                Some(v) => {
                    std::ptr::copy_nonoverlapping(v.as_ptr(), a.pValue as *mut u8, v.len());
                    a.ulValueLen = v.len() as CK_ULONG;
                }
            }
        }
        if rv == CKR_OK {
            Ok(())
        } else {
            Err(rv)
        }
    })
}

pub unsafe extern "C" fn C_SetAttributeValue(
    h: CK_SESSION_HANDLE,
    o: CK_OBJECT_HANDLE,
    t: *mut CK_ATTRIBUTE,
    n: CK_ULONG,
) -> CK_RV {
    with(|m| m.set_attributes(h, o, template(t, n)?))
}

pub unsafe extern "C" fn C_FindObjectsInit(h: CK_SESSION_HANDLE, t: *mut CK_ATTRIBUTE, n: CK_ULONG) -> CK_RV {
    with(|m| m.find_init(h, template(t, n)?))
}

pub unsafe extern "C" fn C_FindObjects(
    h: CK_SESSION_HANDLE,
    out: *mut CK_OBJECT_HANDLE,
    max: CK_ULONG,
    count: *mut CK_ULONG,
) -> CK_RV {
    with(|m| {
        if count.is_null() || (max > 0 && out.is_null()) {
            return Err(CKR_ARGUMENTS_BAD);
        }
        let found = m.session(h)?.find.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
        let take = found.len().min(max as usize);
        for (i, handle) in found.drain(..take).enumerate() {
            *out.add(i) = handle as CK_OBJECT_HANDLE;
        }
        *count = take as CK_ULONG;
        Ok(())
    })
}

pub unsafe extern "C" fn C_FindObjectsFinal(h: CK_SESSION_HANDLE) -> CK_RV {
    with(|m| m.session(h)?.find.take().map(|_| ()).ok_or(CKR_OPERATION_NOT_INITIALIZED))
}

pub unsafe extern "C" fn C_DigestInit(h: CK_SESSION_HANDLE, mech: *mut CK_MECHANISM) -> CK_RV {
    with(|m| {
        if mech.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        let s = m.session(h)?;
        if s.digest.is_some() {
            return Err(CKR_OPERATION_ACTIVE);
        }
        if (*mech).mechanism != CKM_SM3_HASH {
            return Err(CKR_MECHANISM_INVALID);
        }
        s.digest = Some(Vec::new());
        Ok(())
    })
}

pub unsafe extern "C" fn C_Digest(
    h: CK_SESSION_HANDLE,
    d: *mut CK_BYTE,
    n: CK_ULONG,
    out: *mut CK_BYTE,
    len: *mut CK_ULONG,
) -> CK_RV {
    with(|m| {
        let s = m.session(h)?;
        let mut data = s.digest.clone().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
        data.extend_from_slice(bytes(d, n)?);
        let digest = crypto::sm3(&data);
        match output(&digest, out, len) {
            // A length query or a short buffer keeps the operation active.
            Ok(false) => Ok(()),
            Err(CKR_BUFFER_TOO_SMALL) => Err(CKR_BUFFER_TOO_SMALL),
            Ok(true) => {
                s.digest = None;
                Ok(())
            }
            Err(e) => {
                s.digest = None;
                Err(e)
            }
        }
    })
}

pub unsafe extern "C" fn C_DigestUpdate(h: CK_SESSION_HANDLE, d: *mut CK_BYTE, n: CK_ULONG) -> CK_RV {
    with(|m| {
        let data = bytes(d, n)?;
        m.session(h)?.digest.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?.extend_from_slice(data);
        Ok(())
    })
}

pub unsafe extern "C" fn C_DigestFinal(h: CK_SESSION_HANDLE, out: *mut CK_BYTE, len: *mut CK_ULONG) -> CK_RV {
    C_Digest(h, std::ptr::null_mut(), 0, out, len)
}

pub unsafe extern "C" fn C_SignInit(h: CK_SESSION_HANDLE, mech: *mut CK_MECHANISM, key: CK_OBJECT_HANDLE) -> CK_RV {
    with(|m| {
        if mech.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        let slot = m.session(h)?.slot;
        if m.session(h)?.sign.is_some() {
            return Err(CKR_OPERATION_ACTIVE);
        }
        if m.logins.get(&slot) != Some(&CKU_USER) {
            return Err(CKR_USER_NOT_LOGGED_IN);
        }
        let k = m.object(h, key)?;
        if k.class() != Some(CKO_PRIVATE_KEY) || k.attrs.get(&CKA_KEY_TYPE) != Some(&token::ulong(CKK_SM2)) {
            return Err(CKR_KEY_TYPE_INCONSISTENT);
        }
        if !k.flag(CKA_SIGN) {
            return Err(CKR_KEY_FUNCTION_NOT_PERMITTED);
        }
        let secret = k.secret.clone().ok_or(CKR_KEY_HANDLE_INVALID)?;
        let param = bytes((*mech).pParameter as *const CK_BYTE, (*mech).ulParameterLen)?;
        let op = match (*mech).mechanism {
            CKM_SM2_SIGN => SignOp::Raw { secret },
            CKM_SM3_SM2_APPID1 => SignOp::Message { secret, id: DEFAULT_ID.into(), data: Vec::new() },
            CKM_SM3_SM2 => {
                let id = if param.is_empty() {
                    DEFAULT_ID.to_string()
                } else {
                    String::from_utf8(param.to_vec()).map_err(|_| CKR_MECHANISM_PARAM_INVALID)?
                };
                SignOp::Message { secret, id, data: Vec::new() }
            }
            _ => return Err(CKR_MECHANISM_INVALID),
        };
        m.session(h)?.sign = Some(op);
        Ok(())
    })
}

/// Finishes the session's signing operation over `extra` (appended for the message mechanisms).
unsafe fn finish_sign(
    m: &mut Module,
    h: CK_SESSION_HANDLE,
    extra: &[u8],
    out: *mut CK_BYTE,
    len: *mut CK_ULONG,
) -> Rv<()> {
    let s = m.session(h)?;
    let op = s.sign.as_ref().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
    if len.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    // The length query answers without signing; the operation stays active.
    if out.is_null() || (*len as usize) < 64 {
        return output(&[0u8; 64], std::ptr::null_mut(), len).and_then(|_| {
            if out.is_null() {
                Ok(())
            } else {
                Err(CKR_BUFFER_TOO_SMALL)
            }
        });
    }
    let sig = match op {
        SignOp::Raw { secret } => {
            if extra.len() != 32 {
                s.sign = None;
                return Err(CKR_DATA_LEN_RANGE);
            }
            crypto::sign_prehash(secret, extra)
        }
        SignOp::Message { secret, id, data } => {
            let mut msg = data.clone();
            msg.extend_from_slice(extra);
            crypto::sign_message(secret, id, &msg)
        }
    };
    s.sign = None;
    let sig = sig.ok_or(CKR_FUNCTION_FAILED)?;
    output(&sig, out, len).map(|_| ())
}

pub unsafe extern "C" fn C_Sign(
    h: CK_SESSION_HANDLE,
    d: *mut CK_BYTE,
    n: CK_ULONG,
    out: *mut CK_BYTE,
    len: *mut CK_ULONG,
) -> CK_RV {
    with(|m| {
        let data = bytes(d, n)?.to_vec();
        finish_sign(m, h, &data, out, len)
    })
}

pub unsafe extern "C" fn C_SignUpdate(h: CK_SESSION_HANDLE, d: *mut CK_BYTE, n: CK_ULONG) -> CK_RV {
    with(|m| {
        let part = bytes(d, n)?;
        let s = m.session(h)?;
        match s.sign.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)? {
            SignOp::Message { data, .. } => {
                data.extend_from_slice(part);
                Ok(())
            }
            // Raw SM2 signs one prehash: single-part only.
            SignOp::Raw { .. } => {
                s.sign = None;
                Err(CKR_FUNCTION_NOT_SUPPORTED)
            }
        }
    })
}

pub unsafe extern "C" fn C_SignFinal(h: CK_SESSION_HANDLE, out: *mut CK_BYTE, len: *mut CK_ULONG) -> CK_RV {
    with(|m| {
        if matches!(m.session(h)?.sign, Some(SignOp::Raw { .. })) {
            m.session(h)?.sign = None;
            return Err(CKR_FUNCTION_NOT_SUPPORTED);
        }
        finish_sign(m, h, &[], out, len)
    })
}

pub unsafe extern "C" fn C_GenerateKeyPair(
    h: CK_SESSION_HANDLE,
    mech: *mut CK_MECHANISM,
    pt: *mut CK_ATTRIBUTE,
    pn: CK_ULONG,
    st: *mut CK_ATTRIBUTE,
    sn: CK_ULONG,
    pub_out: *mut CK_OBJECT_HANDLE,
    priv_out: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    with(|m| {
        if mech.is_null() || pub_out.is_null() || priv_out.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        m.session(h)?;
        if (*mech).mechanism != CKM_SM2_KEY_PAIR_GEN {
            return Err(CKR_MECHANISM_INVALID);
        }
        let (p, s) = m.generate_key_pair(h, template(pt, pn)?, template(st, sn)?)?;
        *pub_out = p as CK_OBJECT_HANDLE;
        *priv_out = s as CK_OBJECT_HANDLE;
        Ok(())
    })
}

pub unsafe extern "C" fn C_GenerateRandom(h: CK_SESSION_HANDLE, out: *mut CK_BYTE, n: CK_ULONG) -> CK_RV {
    with(|m| {
        m.session(h)?;
        if n == 0 {
            return Ok(());
        }
        if out.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        getrandom::getrandom(std::slice::from_raw_parts_mut(out, n as usize)).map_err(|_| CKR_DEVICE_ERROR)
    })
}
