//! keydesk's SM2 TEST TOKEN: a PKCS#11 module (cdylib) that speaks SM2/SM3 the way a Chinese UKey
//! vendor's module does, for keydesk's tests and demo. It is NOT a product and never ships in the
//! keydesk release binary (keydesk does not depend on it; build it with
//! `cargo build -p keydesk-sm2-test-token`). State lives in files in `KEYDESK_SM2_TOKEN_DIR`, and,
//! being a test token, those files hold the SM2 private keys in the clear (never returned over
//! PKCS#11: CKA_SENSITIVE true, CKA_EXTRACTABLE false, CKA_VALUE of a private key answers
//! CKR_ATTRIBUTE_SENSITIVE).
//!
//! Codes: Sansec (三未信安)'s published PKCS#11 SM codes, as xipki's PKCS#11 wrapper records them in
//! xipki/ipkcs11wrapper `src/main/resources/org/xipki/pkcs11/wrapper/vendor.conf` (block "SANSEC
//! HSM", module `upkcs11`) and as Sansec's `swpkcs11.h` defines them (CKM_SM2 = CKM_VENDOR_DEFINED +
//! 0x8000): CKK_SM2 0x80000004, CKM_SM2_KEY_PAIR_GEN 0x80008001, CKM_SM3_SM2 0x80008100 (SM3 with
//! SM2 on the message; mechanism parameter = signer ID, none = `1234567812345678`),
//! CKM_SM3_SM2_APPID1 0x80008102 (the same with the fixed ID `1234567812345678`), CKM_SM2_SIGN
//! 0x80008104 (raw SM2 on a 32-byte prehash e), CKM_SM3_HASH 0x80009001. Signatures: raw r‖s, 64
//! bytes (the non-DER variants). The token's manufacturer is "keydesk test token": it has
//! Sansec's layout, it does not pretend to be Sansec.

#![allow(clippy::missing_safety_doc)]

mod crypto;
mod ffi;
mod store;
mod stubs;
mod token;

use cryptoki_sys::*;

pub const CKK_SM2: CK_KEY_TYPE = 0x8000_0004;
pub const CKM_SM2_KEY_PAIR_GEN: CK_MECHANISM_TYPE = 0x8000_8001;
pub const CKM_SM3_SM2: CK_MECHANISM_TYPE = 0x8000_8100;
pub const CKM_SM3_SM2_APPID1: CK_MECHANISM_TYPE = 0x8000_8102;
pub const CKM_SM2_SIGN: CK_MECHANISM_TYPE = 0x8000_8104;
pub const CKM_SM3_HASH: CK_MECHANISM_TYPE = 0x8000_9001;

/// The mechanisms the token lists, with their flags.
pub const MECHANISMS: [(CK_MECHANISM_TYPE, CK_FLAGS); 5] = [
    (CKM_SM2_KEY_PAIR_GEN, CKF_HW | CKF_GENERATE_KEY_PAIR),
    (CKM_SM3_SM2, CKF_HW | CKF_SIGN),
    (CKM_SM3_SM2_APPID1, CKF_HW | CKF_SIGN),
    (CKM_SM2_SIGN, CKF_HW | CKF_SIGN),
    (CKM_SM3_HASH, CKF_HW | CKF_DIGEST),
];

/// DER of OID 1.2.156.10197.1.301 (sm2p256v1): CKA_EC_PARAMS of every SM2 key.
pub const SM2_EC_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];
/// GM/T 0009's default signer ID.
pub const DEFAULT_ID: &str = "1234567812345678";

pub const MANUFACTURER: &str = "keydesk test token";
pub const MODEL: &str = "SM2 UKey (test)";
pub const MIN_PIN: usize = 4;
pub const MAX_PIN: usize = 32;

include!("function_list.rs");

#[no_mangle]
pub unsafe extern "C" fn C_GetFunctionList(pp: *mut *mut CK_FUNCTION_LIST) -> CK_RV {
    if pp.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    // The list is never written through (PKCS#11 gives a mutable pointer by tradition).
    *pp = std::ptr::addr_of!(FUNCTION_LIST) as *mut CK_FUNCTION_LIST;
    CKR_OK
}
