//! Certificates and certificate requests as DER: reading the facts the desk compares (serial, subject,
//! validity, public key, fingerprint), building a PKCS#10 request or a certificate around a signature
//! made elsewhere (on the member's token, or by the CA key), and checking signatures. Only the two
//! algorithms UKeys use with PKCS#11 today: RSA (PKCS#1 v1.5, SHA-256) and ECDSA P-256 (SHA-256).

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use der::asn1::{BitString, GeneralizedTime, OctetString, SetOfVec, UtcTime};
use der::{Decode, Encode, EncodePem};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::ext::{AsExtension, Extension};
use x509_cert::name::Name;
use x509_cert::request::{CertReq, CertReqInfo};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate};

use crate::domain::certificate::malformed;
pub use crate::domain::certificate::{
    fingerprint, normalize_serial, normalize_subject, parse_certificate, CertFacts, X509Error,
};

pub const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
pub const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
pub const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// The DigestInfo prefix of a SHA-256 hash, for signing with raw `CKM_RSA_PKCS` on a token.
pub const SHA256_DIGEST_INFO: [u8; 19] =
    [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];

/// The key algorithms a renewal can generate on a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyAlgorithm {
    Rsa { bits: u32 },
    EcP256,
}

impl KeyAlgorithm {
    pub fn code(self) -> String {
        match self {
            KeyAlgorithm::Rsa { bits } => format!("rsa-{bits}"),
            KeyAlgorithm::EcP256 => "ec-p256".into(),
        }
    }

    pub fn from_code(code: &str) -> Option<KeyAlgorithm> {
        match code {
            "ec-p256" => Some(KeyAlgorithm::EcP256),
            c => c.strip_prefix("rsa-").and_then(|b| b.parse().ok()).map(|bits| KeyAlgorithm::Rsa { bits }),
        }
    }

    /// The algorithm of a public key, from its SubjectPublicKeyInfo.
    pub fn of_spki(spki_der: &[u8]) -> Result<KeyAlgorithm, X509Error> {
        let spki = SubjectPublicKeyInfoOwned::from_der(spki_der).map_err(malformed)?;
        if spki.algorithm.oid == RSA_ENCRYPTION {
            use rsa::traits::PublicKeyParts;
            let key = rsa_public(spki_der)?;
            Ok(KeyAlgorithm::Rsa { bits: u32::try_from(key.n().bits()).unwrap_or(0) })
        } else if spki.algorithm.oid == EC_PUBLIC_KEY {
            let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            if curve == Some(SECP256R1) {
                Ok(KeyAlgorithm::EcP256)
            } else {
                Err(X509Error::Unsupported(format!("EC curve {curve:?}")))
            }
        } else {
            Err(X509Error::Unsupported(spki.algorithm.oid.to_string()))
        }
    }

    fn signature_algorithm(self) -> AlgorithmIdentifierOwned {
        match self {
            KeyAlgorithm::Rsa { .. } => {
                AlgorithmIdentifierOwned { oid: SHA256_WITH_RSA, parameters: Some(der::asn1::Null.into()) }
            }
            KeyAlgorithm::EcP256 => AlgorithmIdentifierOwned { oid: ECDSA_WITH_SHA256, parameters: None },
        }
    }
}

/// RFC 5280: UTCTime through 2049, GeneralizedTime after.
fn to_time(t: DateTime<Utc>) -> Result<Time, X509Error> {
    let secs = u64::try_from(t.timestamp()).map_err(|_| malformed("time before 1970"))?;
    let d = Duration::from_secs(secs);
    if t.format("%Y").to_string().as_str() < "2050" {
        Ok(Time::UtcTime(UtcTime::from_unix_duration(d).map_err(malformed)?))
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_unix_duration(d).map_err(malformed)?))
    }
}

pub fn parse_name(rfc4514: &str) -> Result<Name, X509Error> {
    Name::from_str(&normalize_subject(rfc4514)).map_err(|e| malformed(format!("subject {rfc4514:?}: {e}")))
}

pub fn pem_to_der(pem: &str) -> Result<(String, Vec<u8>), X509Error> {
    let (label, der_bytes) = der::pem::decode_vec(pem.trim().as_bytes()).map_err(malformed)?;
    Ok((label.to_string(), der_bytes))
}

/// The first certificate in a PEM text (a CA may print a chain: the leaf comes first).
pub fn first_certificate_pem(text: &str) -> Result<Vec<u8>, X509Error> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = text.find(BEGIN).ok_or_else(|| malformed("no PEM certificate in the output"))?;
    let end = text[start..]
        .find(END)
        .map(|e| start + e + END.len())
        .ok_or_else(|| malformed("unterminated PEM certificate"))?;
    Ok(pem_to_der(&text[start..end])?.1)
}

pub fn to_pem(label: &str, der_bytes: &[u8]) -> String {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der_bytes).unwrap_or_default()
}

/// The message a token signs for `tbs`: the SHA-256 hash, with the DigestInfo prefix for RSA.
pub fn to_be_signed(alg: KeyAlgorithm, tbs: &[u8]) -> Vec<u8> {
    let hash = Sha256::digest(tbs);
    match alg {
        KeyAlgorithm::Rsa { .. } => [&SHA256_DIGEST_INFO[..], &hash[..]].concat(),
        KeyAlgorithm::EcP256 => hash.to_vec(),
    }
}

/// Turns a token's raw signature into the X.509 form: RSA as is, ECDSA r‖s as a DER SEQUENCE.
pub fn x509_signature(alg: KeyAlgorithm, raw: &[u8]) -> Result<Vec<u8>, X509Error> {
    match alg {
        KeyAlgorithm::Rsa { .. } => Ok(raw.to_vec()),
        KeyAlgorithm::EcP256 => {
            let sig = p256::ecdsa::Signature::from_slice(raw).map_err(|e| X509Error::BadSignature(e.to_string()))?;
            Ok(sig.to_der().as_bytes().to_vec())
        }
    }
}

/// The SubjectPublicKeyInfo of an RSA key from its modulus and public exponent (big-endian).
pub fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Result<Vec<u8>, X509Error> {
    use rsa::pkcs8::EncodePublicKey;
    let key = rsa::RsaPublicKey::new(rsa::BigUint::from_bytes_be(modulus), rsa::BigUint::from_bytes_be(exponent))
        .map_err(malformed)?;
    Ok(key.to_public_key_der().map_err(malformed)?.as_bytes().to_vec())
}

/// The SubjectPublicKeyInfo of a P-256 key from `CKA_EC_POINT` (a DER OCTET STRING, or the bare point).
pub fn ec_spki(ec_point: &[u8]) -> Result<Vec<u8>, X509Error> {
    use p256::pkcs8::EncodePublicKey;
    let point = OctetString::from_der(ec_point).map(|o| o.as_bytes().to_vec()).unwrap_or_else(|_| ec_point.to_vec());
    let key = p256::PublicKey::from_sec1_bytes(&point).map_err(malformed)?;
    Ok(key.to_public_key_der().map_err(malformed)?.as_bytes().to_vec())
}

fn rsa_public(spki_der: &[u8]) -> Result<rsa::RsaPublicKey, X509Error> {
    use rsa::pkcs8::DecodePublicKey;
    rsa::RsaPublicKey::from_public_key_der(spki_der).map_err(malformed)
}

/// Checks an X.509-form signature (`x509_signature`) over `message` with the key in `spki_der`.
pub fn verify(spki_der: &[u8], message: &[u8], signature: &[u8]) -> Result<(), X509Error> {
    use rsa::signature::Verifier;
    let bad = |e: rsa::signature::Error| X509Error::BadSignature(e.to_string());
    match KeyAlgorithm::of_spki(spki_der)? {
        KeyAlgorithm::Rsa { .. } => {
            let key = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(rsa_public(spki_der)?);
            let sig = rsa::pkcs1v15::Signature::try_from(signature).map_err(bad)?;
            key.verify(message, &sig).map_err(bad)
        }
        KeyAlgorithm::EcP256 => {
            use p256::pkcs8::DecodePublicKey;
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(spki_der).map_err(malformed)?;
            let sig = p256::ecdsa::Signature::from_der(signature).map_err(bad)?;
            key.verify(message, &sig).map_err(bad)
        }
    }
}

/// The CertificationRequestInfo (DER) to be signed for `subject_der` and `spki_der`.
pub fn request_to_sign(subject_der: &[u8], spki_der: &[u8]) -> Result<Vec<u8>, X509Error> {
    let info = CertReqInfo {
        version: x509_cert::request::Version::V1,
        subject: Name::from_der(subject_der).map_err(malformed)?,
        public_key: SubjectPublicKeyInfoOwned::from_der(spki_der).map_err(malformed)?,
        attributes: SetOfVec::new(),
    };
    info.to_der().map_err(malformed)
}

/// The PKCS#10 request from its signed info and the X.509-form signature.
pub fn finish_request(info_der: &[u8], signature: &[u8]) -> Result<Vec<u8>, X509Error> {
    let info = CertReqInfo::from_der(info_der).map_err(malformed)?;
    let spki_der = info.public_key.to_der().map_err(malformed)?;
    let alg = KeyAlgorithm::of_spki(&spki_der)?;
    let req = CertReq {
        info,
        algorithm: alg.signature_algorithm(),
        signature: BitString::from_bytes(signature).map_err(malformed)?,
    };
    req.to_der().map_err(malformed)
}

/// Builds a PKCS#10 request with a signer at hand (`sign` returns the X.509-form signature).
pub fn build_request(
    subject_der: &[u8],
    spki_der: &[u8],
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, X509Error>,
) -> Result<Vec<u8>, X509Error> {
    let tbs = request_to_sign(subject_der, spki_der)?;
    let signature = sign(&tbs)?;
    finish_request(&tbs, &signature)
}

/// A checked certificate request: its self-signature verifies.
#[derive(Debug, Clone)]
pub struct Request {
    pub subject_der: Vec<u8>,
    pub subject: String,
    pub spki_der: Vec<u8>,
    pub der: Vec<u8>,
}

pub fn parse_request(der_bytes: &[u8]) -> Result<Request, X509Error> {
    let req = CertReq::from_der(der_bytes).map_err(malformed)?;
    let spki_der = req.info.public_key.to_der().map_err(malformed)?;
    let tbs = req.info.to_der().map_err(malformed)?;
    verify(&spki_der, &tbs, req.signature.raw_bytes())?;
    Ok(Request {
        subject_der: req.info.subject.to_der().map_err(malformed)?,
        subject: req.info.subject.to_string(),
        spki_der,
        der: der_bytes.to_vec(),
    })
}

/// What a CA certifies: the request's subject and key, with the serial and validity the desk planned.
pub struct CertificateTemplate<'a> {
    pub serial: &'a [u8],
    pub subject_der: &'a [u8],
    pub spki_der: &'a [u8],
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// None: a self-signed CA certificate.
    pub issuer: Option<&'a CertFacts>,
    pub is_ca: bool,
}

/// Builds and signs a certificate; `sign` gets the TBSCertificate DER, returns the X.509-form signature.
pub fn build_certificate(
    t: &CertificateTemplate<'_>,
    signer_alg: KeyAlgorithm,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, X509Error>,
) -> Result<Vec<u8>, X509Error> {
    let subject = Name::from_der(t.subject_der).map_err(malformed)?;
    let issuer = match t.issuer {
        Some(ca) => Name::from_der(&ca.subject_der).map_err(malformed)?,
        None => subject.clone(),
    };
    let spki = SubjectPublicKeyInfoOwned::from_der(t.spki_der).map_err(malformed)?;
    let key_id = |spki: &SubjectPublicKeyInfoOwned| -> Vec<u8> {
        use sha1::Digest as _;
        sha1::Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec()
    };
    let ski = key_id(&spki);
    let aki = match t.issuer {
        Some(ca) => key_id(&SubjectPublicKeyInfoOwned::from_der(&ca.spki_der).map_err(malformed)?),
        None => ski.clone(),
    };
    let usage = if t.is_ca {
        KeyUsages::KeyCertSign | KeyUsages::CRLSign | KeyUsages::DigitalSignature
    } else {
        KeyUsages::DigitalSignature | KeyUsages::NonRepudiation
    };
    let ext = |e: &dyn Fn() -> der::Result<Extension>| e().map_err(malformed);
    let extensions: Vec<Extension> = vec![
        ext(&|| BasicConstraints { ca: t.is_ca, path_len_constraint: None }.to_extension(&subject, &[]))?,
        ext(&|| KeyUsage(usage).to_extension(&subject, &[]))?,
        ext(&|| SubjectKeyIdentifier(OctetString::new(ski.clone())?).to_extension(&subject, &[]))?,
        ext(&|| {
            AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(aki.clone())?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            }
            .to_extension(&subject, &[])
        })?,
    ];
    let tbs = TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: SerialNumber::new(t.serial).map_err(malformed)?,
        signature: signer_alg.signature_algorithm(),
        issuer,
        validity: Validity { not_before: to_time(t.not_before)?, not_after: to_time(t.not_after)? },
        subject,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let tbs_der = tbs.to_der().map_err(malformed)?;
    let signature = sign(&tbs_der)?;
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: signer_alg.signature_algorithm(),
        signature: BitString::from_bytes(&signature).map_err(malformed)?,
    };
    cert.to_der().map_err(malformed)
}

/// Checks that `cert_der` was signed by the key of `issuer`.
pub fn verify_issued_by(cert_der: &[u8], issuer: &CertFacts) -> Result<(), X509Error> {
    let cert = Certificate::from_der(cert_der).map_err(malformed)?;
    let tbs = cert.tbs_certificate.to_der().map_err(malformed)?;
    verify(&issuer.spki_der, &tbs, cert.signature.raw_bytes())
}

/// PEM for a request, as a command CA reads it.
pub fn request_pem(der_bytes: &[u8]) -> String {
    to_pem("CERTIFICATE REQUEST", der_bytes)
}

pub fn certificate_pem(der_bytes: &[u8]) -> String {
    to_pem("CERTIFICATE", der_bytes)
}

/// A signing key held in memory (the local CA's key from a PEM file).
pub enum SoftKey {
    Rsa(Box<rsa::pkcs1v15::SigningKey<Sha256>>, Vec<u8>),
    EcP256(p256::ecdsa::SigningKey, Vec<u8>),
}

impl SoftKey {
    /// Reads a PKCS#8, PKCS#1 (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) PEM key.
    pub fn from_pem(pem: &str) -> Result<SoftKey, X509Error> {
        use p256::pkcs8::DecodePrivateKey as _;
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::pkcs8::EncodePublicKey;
        let rsa_key = |k: rsa::RsaPrivateKey| -> Result<SoftKey, X509Error> {
            let spki = k.to_public_key().to_public_key_der().map_err(malformed)?.as_bytes().to_vec();
            Ok(SoftKey::Rsa(Box::new(rsa::pkcs1v15::SigningKey::<Sha256>::new(k)), spki))
        };
        let ec_key = |k: p256::SecretKey| -> Result<SoftKey, X509Error> {
            let spki = p256::pkcs8::EncodePublicKey::to_public_key_der(&k.public_key())
                .map_err(malformed)?
                .as_bytes()
                .to_vec();
            Ok(SoftKey::EcP256(p256::ecdsa::SigningKey::from(k), spki))
        };
        let text = pem.trim();
        if text.contains("BEGIN RSA PRIVATE KEY") {
            return rsa_key(rsa::RsaPrivateKey::from_pkcs1_pem(text).map_err(malformed)?);
        }
        if text.contains("BEGIN EC PRIVATE KEY") {
            let start = text.find("-----BEGIN EC PRIVATE KEY").unwrap_or(0);
            return ec_key(p256::SecretKey::from_sec1_pem(&text[start..]).map_err(malformed)?);
        }
        if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_pem(text) {
            return rsa_key(k);
        }
        match p256::SecretKey::from_pkcs8_pem(text) {
            Ok(k) => ec_key(k),
            Err(e) => Err(X509Error::Unsupported(format!("CA key is neither RSA nor EC P-256 PEM ({e})"))),
        }
    }

    pub fn algorithm(&self) -> Result<KeyAlgorithm, X509Error> {
        KeyAlgorithm::of_spki(self.spki_der())
    }

    pub fn spki_der(&self) -> &[u8] {
        match self {
            SoftKey::Rsa(_, spki) | SoftKey::EcP256(_, spki) => spki,
        }
    }

    /// Signs `message` (hashing it with SHA-256), returning the X.509-form signature.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, X509Error> {
        use rsa::signature::{SignatureEncoding, Signer};
        match self {
            SoftKey::Rsa(k, _) => Ok(k.try_sign(message).map_err(|e| X509Error::BadSignature(e.to_string()))?.to_vec()),
            SoftKey::EcP256(k, _) => {
                let sig: p256::ecdsa::Signature =
                    k.try_sign(message).map_err(|e| X509Error::BadSignature(e.to_string()))?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
        }
    }

    /// A new P-256 key (the demo CA), as PKCS#8 PEM.
    pub fn generate_p256_pem() -> Result<String, X509Error> {
        use p256::pkcs8::EncodePrivateKey;
        let key = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        Ok(key.to_pkcs8_pem(der::pem::LineEnding::LF).map_err(malformed)?.to_string())
    }
}

/// Encodes anything DER as PEM with its label (for files the operator reads).
pub fn encode_pem<T: EncodePem>(value: &T) -> Result<String, X509Error> {
    value.to_pem(der::pem::LineEnding::LF).map_err(malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn serials_and_subjects_normalise_the_way_people_write_them() {
        assert_eq!(normalize_serial("00:e0:c6:77"), "E0C677");
        assert_eq!(normalize_serial("E0C6774455113DC3"), "E0C6774455113DC3");
        assert_eq!(normalize_subject("cn=a@b, O=公司 ,C=CN"), "CN=a@b,O=公司,C=CN");
    }

    #[test]
    fn a_request_and_certificate_built_here_verify_and_read_back() {
        let ca_key = SoftKey::from_pem(&SoftKey::generate_p256_pem().unwrap()).unwrap();
        let ca_subject = parse_name("CN=Demo CA,O=keydesk,C=CN").unwrap().to_der().unwrap();
        let ca_der = build_certificate(
            &CertificateTemplate {
                serial: &[1],
                subject_der: &ca_subject,
                spki_der: ca_key.spki_der(),
                not_before: at(2025, 1, 1),
                not_after: at(2035, 1, 1),
                issuer: None,
                is_ca: true,
            },
            KeyAlgorithm::EcP256,
            |tbs| ca_key.sign(tbs),
        )
        .unwrap();
        let ca = parse_certificate(&ca_der).unwrap();
        assert_eq!(ca.subject, "CN=Demo CA,O=keydesk,C=CN");
        verify_issued_by(&ca_der, &ca).unwrap();

        let member = SoftKey::from_pem(&SoftKey::generate_p256_pem().unwrap()).unwrap();
        let subject =
            parse_name("CN=051@秦晓明@ZS00000toubiao00,O=北京巨蟹宫科技有限公司,C=CN").unwrap().to_der().unwrap();
        let csr = build_request(&subject, member.spki_der(), |tbs| member.sign(tbs)).unwrap();
        let req = parse_request(&csr).unwrap();
        assert_eq!(req.subject, "CN=051@秦晓明@ZS00000toubiao00,O=北京巨蟹宫科技有限公司,C=CN");
        let cert_der = build_certificate(
            &CertificateTemplate {
                serial: &[0x00, 0xE0, 0xC6, 0x77],
                subject_der: &req.subject_der,
                spki_der: &req.spki_der,
                not_before: at(2026, 12, 1),
                not_after: at(2051, 12, 1),
                issuer: Some(&ca),
                is_ca: false,
            },
            KeyAlgorithm::EcP256,
            |tbs| ca_key.sign(tbs),
        )
        .unwrap();
        let facts = parse_certificate(&cert_der).unwrap();
        assert_eq!(facts.serial, "E0C677");
        assert_eq!((facts.not_before, facts.not_after), (at(2026, 12, 1), at(2051, 12, 1)));
        assert_eq!(facts.spki_der, member.spki_der());
        verify_issued_by(&cert_der, &ca).unwrap();
        assert!(verify_issued_by(&cert_der, &parse_certificate(&cert_der).unwrap()).is_err());
    }
}
