//! SM2 and SM3 from RustCrypto's `sm2`/`sm3`: key generation, raw SM2 on a prehash e, and
//! SM3-with-SM2 on a message (Z from the key and the signer's ID, GM/T 0009). Signatures are the
//! vendor's raw form: r‖s, 32 bytes each, big-endian (64 bytes).

use sm2::dsa::signature::hazmat::RandomizedPrehashSigner;
use sm2::dsa::signature::RandomizedSigner;
use sm2::dsa::{Signature, SigningKey};
use sm2::elliptic_curve::sec1::ToEncodedPoint;
use sm2::SecretKey;

/// A new key: (private scalar, uncompressed public point 04‖X‖Y).
pub fn generate() -> (Vec<u8>, Vec<u8>) {
    let sk = SecretKey::random(&mut rand_core::OsRng);
    let point = sk.public_key().to_encoded_point(false).as_bytes().to_vec();
    (sk.to_bytes().to_vec(), point)
}

/// CKA_EC_POINT as vendors give it: the DER OCTET STRING around the uncompressed point.
pub fn ec_point_der(point: &[u8]) -> Vec<u8> {
    let mut out = vec![0x04, point.len() as u8];
    out.extend_from_slice(point);
    out
}

fn key(secret: &[u8], id: &str) -> Option<SigningKey> {
    SigningKey::from_slice(id, secret).ok()
}

/// Raw SM2 on a 32-byte prehash e = SM3(Z‖M) that the host computed.
pub fn sign_prehash(secret: &[u8], e: &[u8]) -> Option<[u8; 64]> {
    let k = key(secret, crate::DEFAULT_ID)?;
    let sig: Signature = k.sign_prehash_with_rng(&mut rand_core::OsRng, e).ok()?;
    Some(sig.to_bytes())
}

/// SM3-with-SM2 on the message: Z from the key and `id`, e = SM3(Z‖M), then SM2.
pub fn sign_message(secret: &[u8], id: &str, msg: &[u8]) -> Option<[u8; 64]> {
    let k = key(secret, id)?;
    let sig: Signature = k.try_sign_with_rng(&mut rand_core::OsRng, msg).ok()?;
    Some(sig.to_bytes())
}

pub fn sm3(data: &[u8]) -> Vec<u8> {
    use sm3::Digest;
    sm3::Sm3::digest(data).to_vec()
}
