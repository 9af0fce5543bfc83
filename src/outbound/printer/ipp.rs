//! The `ipp` backend: an IPP/1.1 Print-Job (RFC 8010/8011) sent straight to the printer's URI over
//! HTTP, document-format `application/pdf`, with the label's media size as a job attribute.
//!
//! The request is small enough to encode here (one operation, a handful of attributes), which keeps
//! keydesk on a single HTTP client. Outcomes: status `successful-ok*` → printed; `server-error-busy`,
//! `-temporary-error`, `-service-unavailable`, `-not-accepting-jobs`, a refused connection or a
//! timeout → retryable; every other status (bad format, bad attribute, not authorised…) → failed.

use std::time::Duration;

use super::{PrintJob, PrintOutcome, Printer};

const OP_PRINT_JOB: u16 = 0x0002;
const TAG_OPERATION: u8 = 0x01;
const TAG_JOB: u8 = 0x02;
const TAG_END: u8 = 0x03;
const VT_INTEGER: u8 = 0x21;
const VT_TEXT: u8 = 0x41;
const VT_NAME: u8 = 0x42;
const VT_KEYWORD: u8 = 0x44;
const VT_URI: u8 = 0x45;
const VT_CHARSET: u8 = 0x47;
const VT_LANGUAGE: u8 = 0x48;
const VT_MIME: u8 = 0x49;

/// Sends PDFs to one IPP printer.
#[derive(Debug, Clone)]
pub struct IppPrinter {
    printer_uri: String,
    http_url: String,
    media: String,
    agent: ureq::Agent,
}

/// The parts of an IPP response keydesk reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IppResponse {
    pub status: u16,
    pub request_id: u32,
    pub job_id: Option<i32>,
    pub status_message: Option<String>,
}

impl IppPrinter {
    /// `uri` is the printer URI (`ipp://host[:port]/path` or `ipps://…`); `media` a PWG keyword or
    /// empty.
    pub fn new(uri: &str, media: &str, timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .timeout_connect(Some(timeout.min(Duration::from_secs(5))))
            .http_status_as_error(false)
            .build();
        Self {
            printer_uri: uri.to_string(),
            http_url: http_url_for(uri),
            media: media.to_string(),
            agent: config.into(),
        }
    }
}

/// `ipp://h:p/x` → `http://h:p/x` (default port 631); `ipps://` → `https://`.
fn http_url_for(uri: &str) -> String {
    let (scheme, rest) = if let Some(rest) = uri.strip_prefix("ipp://") {
        ("http", rest)
    } else if let Some(rest) = uri.strip_prefix("ipps://") {
        ("https", rest)
    } else {
        return uri.to_string();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let has_port = authority.rsplit_once(':').is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        && !authority.ends_with(']');
    if has_port {
        format!("{scheme}://{authority}{path}")
    } else {
        format!("{scheme}://{authority}:631{path}")
    }
}

fn push_attr(out: &mut Vec<u8>, tag: u8, name: &str, value: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(name.len() as u16).to_be_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

/// Encodes a Print-Job request carrying `pdf`.
pub fn encode_print_job(printer_uri: &str, job_name: &str, media: Option<&str>, pdf: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pdf.len() + 512);
    out.extend_from_slice(&[1, 1]);
    out.extend_from_slice(&OP_PRINT_JOB.to_be_bytes());
    out.extend_from_slice(&1u32.to_be_bytes());
    out.push(TAG_OPERATION);
    push_attr(&mut out, VT_CHARSET, "attributes-charset", b"utf-8");
    push_attr(&mut out, VT_LANGUAGE, "attributes-natural-language", b"en");
    push_attr(&mut out, VT_URI, "printer-uri", printer_uri.as_bytes());
    push_attr(&mut out, VT_NAME, "requesting-user-name", b"keydesk");
    push_attr(&mut out, VT_NAME, "job-name", job_name.as_bytes());
    push_attr(&mut out, VT_MIME, "document-format", b"application/pdf");
    if let Some(media) = media {
        out.push(TAG_JOB);
        push_attr(&mut out, VT_KEYWORD, "media", media.as_bytes());
    }
    out.push(TAG_END);
    out.extend_from_slice(pdf);
    out
}

/// Reads status, request id, `job-id` and `status-message` from an IPP response.
pub fn decode_response(bytes: &[u8]) -> Result<IppResponse, String> {
    if bytes.len() < 9 {
        return Err(format!("IPP response too short ({} bytes)", bytes.len()));
    }
    let status = u16::from_be_bytes([bytes[2], bytes[3]]);
    let request_id = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    let mut response = IppResponse { status, request_id, job_id: None, status_message: None };
    let mut i = 8;
    let mut last_name = String::new();
    while i < bytes.len() {
        let tag = bytes[i];
        i += 1;
        if tag == TAG_END {
            break;
        }
        if tag < 0x10 {
            continue; // a group delimiter
        }
        let read_u16 = |at: usize| -> Result<usize, String> {
            bytes
                .get(at..at + 2)
                .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                .ok_or_else(|| "truncated IPP attribute".to_string())
        };
        let name_len = read_u16(i)?;
        i += 2;
        let name = bytes.get(i..i + name_len).ok_or("truncated IPP attribute name")?;
        i += name_len;
        let value_len = read_u16(i)?;
        i += 2;
        let value = bytes.get(i..i + value_len).ok_or("truncated IPP attribute value")?;
        i += value_len;
        if !name.is_empty() {
            last_name = String::from_utf8_lossy(name).into_owned();
        }
        match (tag, last_name.as_str()) {
            (VT_INTEGER, "job-id") if value.len() == 4 => {
                response.job_id = Some(i32::from_be_bytes([value[0], value[1], value[2], value[3]]));
            }
            (VT_TEXT, "status-message") => {
                response.status_message = Some(String::from_utf8_lossy(value).into_owned());
            }
            _ => {}
        }
    }
    Ok(response)
}

/// The RFC 8011 name of a status code, for messages.
pub fn status_name(status: u16) -> &'static str {
    match status {
        0x0000 => "successful-ok",
        0x0001 => "successful-ok-ignored-or-substituted-attributes",
        0x0002 => "successful-ok-conflicting-attributes",
        0x0400 => "client-error-bad-request",
        0x0401 => "client-error-forbidden",
        0x0402 => "client-error-not-authenticated",
        0x0403 => "client-error-not-authorized",
        0x0404 => "client-error-not-possible",
        0x0405 => "client-error-timeout",
        0x0406 => "client-error-not-found",
        0x040A => "client-error-document-format-not-supported",
        0x040B => "client-error-attributes-or-values-not-supported",
        0x0500 => "server-error-internal-error",
        0x0501 => "server-error-operation-not-supported",
        0x0502 => "server-error-service-unavailable",
        0x0503 => "server-error-version-not-supported",
        0x0504 => "server-error-device-error",
        0x0505 => "server-error-temporary-error",
        0x0506 => "server-error-not-accepting-jobs",
        0x0507 => "server-error-busy",
        _ => "ipp-status",
    }
}

/// Maps an IPP status to the queue's outcome.
pub fn outcome_for(response: &IppResponse) -> PrintOutcome {
    let describe = || {
        let mut text = format!("{} (0x{:04X})", status_name(response.status), response.status);
        if let Some(message) = &response.status_message {
            text.push_str(": ");
            text.push_str(message);
        }
        text
    };
    match response.status {
        0x0000..=0x00FF => PrintOutcome::Printed { job: response.job_id.map(|id| id.to_string()) },
        0x0405 | 0x0502 | 0x0504 | 0x0505 | 0x0506 | 0x0507 => PrintOutcome::Retryable(describe()),
        _ => PrintOutcome::Failed(describe()),
    }
}

impl Printer for IppPrinter {
    fn print(&self, job: &PrintJob<'_>) -> PrintOutcome {
        let body = encode_print_job(&self.printer_uri, job.name, job.media_or(&self.media), job.pdf);
        let sent = self.agent.post(&self.http_url).header("Content-Type", "application/ipp").send(&body[..]);
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => {
                return match e {
                    ureq::Error::BadUri(_) | ureq::Error::Http(_) => {
                        PrintOutcome::Failed(format!("printer URI {}: {e}", self.printer_uri))
                    }
                    // Refused, reset, unreachable, timed out, name not resolved: the printer is off
                    // or away; try later.
                    _ => PrintOutcome::Retryable(format!("printer {} unreachable: {e}", self.printer_uri)),
                };
            }
        };
        let http = response.status().as_u16();
        if http != 200 {
            let text = format!("printer {} answered HTTP {http}", self.printer_uri);
            return if http == 503 || http == 429 || http == 408 {
                PrintOutcome::Retryable(text)
            } else {
                PrintOutcome::Failed(text)
            };
        }
        match response.body_mut().read_to_vec() {
            Ok(bytes) => match decode_response(&bytes) {
                Ok(decoded) => outcome_for(&decoded),
                Err(e) => PrintOutcome::Failed(format!("printer {}: {e}", self.printer_uri)),
            },
            Err(e) => PrintOutcome::Retryable(format!("printer {}: reading the answer: {e}", self.printer_uri)),
        }
    }

    fn describe(&self) -> String {
        format!("IPP printer {}", self.printer_uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_ipp_uris_to_http() {
        assert_eq!(http_url_for("ipp://localhost:8631/ipp/print"), "http://localhost:8631/ipp/print");
        assert_eq!(http_url_for("ipp://printer/ipp/print"), "http://printer:631/ipp/print");
        assert_eq!(http_url_for("ipps://printer"), "https://printer:631/");
        assert_eq!(http_url_for("ipp://[::1]/x"), "http://[::1]:631/x");
        assert_eq!(http_url_for("ipp://[::1]:8000/x"), "http://[::1]:8000/x");
    }

    #[test]
    fn encodes_print_job_and_reads_back_its_own_attributes() {
        let req = encode_print_job("ipp://h/ipp/print", "label-SF1", Some("custom_100x150mm_100x150mm"), b"%PDF");
        assert_eq!(&req[..4], &[1, 1, 0, 2]);
        assert!(req.ends_with(b"\x03%PDF"));
        let text = String::from_utf8_lossy(&req);
        assert!(text.contains("document-format") && text.contains("application/pdf"));
        assert!(text.contains("custom_100x150mm_100x150mm"));
    }

    #[test]
    fn busy_and_unavailable_are_retryable_others_fail() {
        let r = |status| IppResponse { status, request_id: 1, job_id: Some(7), status_message: None };
        assert_eq!(outcome_for(&r(0)), PrintOutcome::Printed { job: Some("7".into()) });
        assert_eq!(outcome_for(&r(1)), PrintOutcome::Printed { job: Some("7".into()) });
        assert!(matches!(outcome_for(&r(0x0507)), PrintOutcome::Retryable(m) if m.contains("server-error-busy")));
        assert!(matches!(outcome_for(&r(0x0506)), PrintOutcome::Retryable(_)));
        assert!(matches!(outcome_for(&r(0x040A)), PrintOutcome::Failed(m) if m.contains("document-format")));
        assert!(matches!(outcome_for(&r(0x0500)), PrintOutcome::Failed(_)));
    }

    #[test]
    fn decodes_job_id_and_status_message() {
        let mut bytes = vec![1, 1, 0x05, 0x07, 0, 0, 0, 9, TAG_OPERATION];
        push_attr(&mut bytes, VT_CHARSET, "attributes-charset", b"utf-8");
        push_attr(&mut bytes, VT_TEXT, "status-message", b"Printer busy.");
        bytes.push(TAG_JOB);
        push_attr(&mut bytes, VT_INTEGER, "job-id", &42i32.to_be_bytes());
        bytes.push(TAG_END);
        let r = decode_response(&bytes).expect("decode");
        assert_eq!(r.status, 0x0507);
        assert_eq!(r.request_id, 9);
        assert_eq!(r.job_id, Some(42));
        assert_eq!(r.status_message.as_deref(), Some("Printer busy."));
        assert!(decode_response(&[1, 1]).is_err());
    }
}
