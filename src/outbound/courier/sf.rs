//! The `sf` courier: SF Express's open platform (丰桥) over HTTPS.
//!
//! Every call is a form POST of `partnerID`, `requestID`, `serviceCode`, `timestamp` (ms), `msgData`
//! (a JSON string) and `msgDigest = Base64(MD5(urlencode(msgData + timestamp + checkWord)))`, where
//! urlencode is Java's `URLEncoder` (UTF-8, space → `+`, `A-Za-z0-9.-*_` kept, upper-case hex).
//! The answer's `apiResultCode` must be `A1000`; its `apiResultData` is a JSON *string* holding
//! `success`, `errorCode`, `errorMsg` and `msgData`.
//!
//! Services used: `EXP_RECE_CREATE_ORDER` (idempotent by our `orderId`: SF returns the first waybill
//! again) and `COM_RECE_CLOUD_PRINT_WAYBILLS` (SF's own label PDF, downloaded with `X-Auth-token`).

use std::time::Duration;

use base64::Engine;
use md5::{Digest, Md5};
use serde_json::{json, Value};

use super::{Booking, Courier, CourierError, CourierSettings, RouteLabel, Secret, Shipment, ShipmentRequest};

pub const SERVICE_CREATE_ORDER: &str = "EXP_RECE_CREATE_ORDER";
pub const SERVICE_CLOUD_PRINT: &str = "COM_RECE_CLOUD_PRINT_WAYBILLS";
pub const SERVICE_SEARCH_ROUTES: &str = "EXP_RECE_SEARCH_ROUTES";

/// Java `URLEncoder.encode(s, "UTF-8")`.
pub fn java_url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// SF's request signature.
pub fn msg_digest(msg_data: &str, timestamp: &str, check_word: &str) -> String {
    let encoded = java_url_encode(&format!("{msg_data}{timestamp}{check_word}"));
    let hash = Md5::digest(encoded.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(hash)
}

/// Plain words for SF's gateway codes, and whether the call may work later.
pub fn gateway_code_meaning(code: &str) -> (&'static str, bool) {
    match code {
        "A1001" => ("a required field is missing", false),
        "A1002" => ("the request has expired: check the desk computer's clock", true),
        "A1003" => ("this IP address is not allowed for the partner ID", false),
        "A1004" => {
            ("the partner ID has no access to this service (check partner_id and the services SF enabled)", false)
        }
        "A1005" => ("too many requests: SF is throttling", true),
        "A1006" => ("the signature is invalid: check_word is wrong for this partner ID", false),
        "A1007" => ("duplicate request ID", true),
        "A1008" => ("SF could not decrypt the request", false),
        "A1009" => ("the SF service is unavailable", true),
        "A1099" => ("SF system error", true),
        _ => ("unknown gateway code", false),
    }
}

/// A client for one SF partner account.
#[derive(Debug, Clone)]
pub struct SfClient {
    base_url: String,
    partner_id: String,
    check_word: Secret,
    monthly_account: String,
    express_type_id: u32,
    pay_method: u32,
    template: String,
    agent: ureq::Agent,
}

fn text_of(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn is_mobile(phone: &str) -> bool {
    phone.len() == 11 && phone.starts_with('1') && phone.bytes().all(|b| b.is_ascii_digit())
}

fn contact_json(contact_type: u8, c: &super::Contact) -> Value {
    let mut v = json!({
        "contactType": contact_type,
        "contact": c.name,
        "address": c.address,
        "country": "CN",
    });
    let key = if is_mobile(&c.phone) { "mobile" } else { "tel" };
    v[key] = Value::String(c.phone.clone());
    if !c.company.is_empty() {
        v["company"] = Value::String(c.company.clone());
    }
    v
}

impl SfClient {
    /// A client from the `[courier]` settings; refuses when partner id or check word is missing.
    pub fn new(settings: &CourierSettings) -> Result<Self, CourierError> {
        if settings.partner_id.is_empty() || settings.check_word.is_empty() {
            return Err(CourierError::NotConfigured(
                "courier.partner_id and courier.check_word are required for the sf backend".into(),
            ));
        }
        if settings.sf_base_url.is_empty() {
            return Err(CourierError::NotConfigured("courier.sf_base_url is empty".into()));
        }
        let timeout = Duration::from_secs(settings.timeout_secs.max(1));
        let config = ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false).build();
        let template = if settings.cloud_print_template.is_empty() {
            format!("fm_150_standard_{}", settings.partner_id)
        } else {
            settings.cloud_print_template.clone()
        };
        Ok(Self {
            base_url: settings.sf_base_url.clone(),
            partner_id: settings.partner_id.clone(),
            check_word: settings.check_word.clone(),
            monthly_account: settings.monthly_account.clone(),
            express_type_id: settings.express_type_id,
            pay_method: settings.pay_method,
            template,
            agent: config.into(),
        })
    }

    /// Calls one service and returns the parsed `apiResultData` object after checking
    /// `apiResultCode` and `success`.
    pub fn call(&self, service_code: &str, msg_data: &Value) -> Result<Value, CourierError> {
        let msg_data = msg_data.to_string();
        // SF checks the request's timestamp against its own clock: this must be the wall clock.
        let timestamp = chrono::Utc::now().timestamp_millis().to_string();
        let request_id = format!("{:032x}", rand::random::<u128>());
        let digest = msg_digest(&msg_data, &timestamp, self.check_word.expose());
        let form = [
            ("partnerID", self.partner_id.as_str()),
            ("requestID", request_id.as_str()),
            ("serviceCode", service_code),
            ("timestamp", timestamp.as_str()),
            ("msgDigest", digest.as_str()),
            ("msgData", msg_data.as_str()),
        ];
        let mut response = self
            .agent
            .post(&self.base_url)
            .send_form(form)
            .map_err(|e| CourierError::Unreachable(format!("{service_code}: {e}")))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| CourierError::Unreachable(format!("{service_code}: reading the answer: {e}")))?;
        if status != 200 {
            return Err(if status >= 500 || status == 429 {
                CourierError::Unreachable(format!("{service_code}: HTTP {status}"))
            } else {
                CourierError::Malformed(format!(
                    "{service_code}: HTTP {status}: {}",
                    body.chars().take(200).collect::<String>()
                ))
            });
        }
        let envelope: Value = serde_json::from_str(&body)
            .map_err(|e| CourierError::Malformed(format!("{service_code}: not JSON ({e})")))?;
        let code = text_of(&envelope, "apiResultCode");
        if code != "A1000" {
            let (meaning, retryable) = gateway_code_meaning(&code);
            let sf_text = text_of(&envelope, "apiErrorMsg");
            let message = if sf_text.is_empty() { meaning.to_string() } else { format!("{meaning} (SF: {sf_text})") };
            return Err(CourierError::Gateway { code, message, retryable });
        }
        let data = match envelope.get("apiResultData") {
            Some(Value::String(s)) => serde_json::from_str::<Value>(s)
                .map_err(|e| CourierError::Malformed(format!("{service_code}: apiResultData is not JSON ({e})")))?,
            Some(v @ Value::Object(_)) => v.clone(),
            _ => return Err(CourierError::Malformed(format!("{service_code}: no apiResultData"))),
        };
        if data.get("success").and_then(Value::as_bool) != Some(true) {
            let code = text_of(&data, "errorCode");
            let mut message = text_of(&data, "errorMsg");
            if message.is_empty() {
                message = text_of(&data, "errorMessage");
            }
            return Err(CourierError::Rejected {
                code: if code.is_empty() { "?".into() } else { code },
                message: if message.is_empty() { "no message".into() } else { message },
            });
        }
        Ok(data)
    }

    /// `EXP_RECE_SEARCH_ROUTES` for one waybill, by waybill number (`trackingType` 1), every route
    /// (`methodType` 1), with `checkPhoneNo` (SF checks it on waybills the partner did not create).
    /// The events and the answer's msgData as it came.
    pub fn search_routes(
        &self,
        waybill: &str,
        phone_tail: &str,
    ) -> Result<(Vec<crate::domain::route::RouteEvent>, String), CourierError> {
        let msg = json!({
            "language": "0",
            "trackingType": "1",
            "trackingNumber": [waybill],
            "methodType": "1",
            "checkPhoneNo": phone_tail,
        });
        let data = self.call(SERVICE_SEARCH_ROUTES, &msg)?;
        let msg_data = data.get("msgData").cloned().unwrap_or(Value::Null);
        let events = crate::domain::route::parse_route_query(&msg_data)
            .map_err(|e| CourierError::Malformed(format!("{SERVICE_SEARCH_ROUTES}: {e}")))?;
        Ok((events, msg_data.to_string()))
    }

    /// `EXP_RECE_CREATE_ORDER`: books the pickup and returns the waybill with routing data.
    /// Asking again with the same `order_id` returns the first waybill.
    pub fn create_order(&self, request: &ShipmentRequest) -> Result<Shipment, CourierError> {
        if request.order_id.is_empty() {
            return Err(CourierError::NotConfigured("the shipment has no order id".into()));
        }
        let mut msg = json!({
            "language": "zh-CN",
            "orderId": request.order_id,
            "payMethod": self.pay_method,
            "expressTypeId": self.express_type_id,
            "parcelQty": request.pieces.max(1),
            "isReturnRoutelabel": 1,
            "cargoDetails": [{ "name": request.cargo, "count": request.pieces.max(1) }],
            "contactInfoList": [contact_json(1, &request.sender), contact_json(2, &request.recipient)],
        });
        if !self.monthly_account.is_empty() {
            msg["monthlyCard"] = Value::String(self.monthly_account.clone());
        }
        if !request.remark.is_empty() {
            msg["remark"] = Value::String(request.remark.clone());
        }
        let data = self.call(SERVICE_CREATE_ORDER, &msg)?;
        parse_create_order(&data)
    }

    /// `COM_RECE_CLOUD_PRINT_WAYBILLS`: SF renders its own label; returns the PDF bytes.
    pub fn cloud_print_waybill(&self, waybill: &str) -> Result<Vec<u8>, CourierError> {
        let msg = json!({
            "templateCode": self.template,
            "version": "2.0",
            "fileType": "pdf",
            "sync": true,
            "documents": [{ "masterWaybillNo": waybill }],
        });
        let data = self.call(SERVICE_CLOUD_PRINT, &msg)?;
        let obj = data
            .get("obj")
            .or_else(|| data.get("msgData").and_then(|m| m.get("obj")))
            .ok_or_else(|| CourierError::Malformed("cloud print: no obj".into()))?;
        let file = obj
            .get("files")
            .and_then(Value::as_array)
            .and_then(|files| files.first())
            .ok_or_else(|| CourierError::Malformed("cloud print: no files".into()))?;
        let url = text_of(file, "url");
        let token = text_of(file, "token");
        if url.is_empty() {
            return Err(CourierError::Malformed("cloud print: file without url".into()));
        }
        let mut response = self
            .agent
            .get(&url)
            .header("X-Auth-token", &token)
            .call()
            .map_err(|e| CourierError::Unreachable(format!("label download: {e}")))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(if status >= 500 {
                CourierError::Unreachable(format!("label download: HTTP {status}"))
            } else {
                CourierError::Rejected {
                    code: format!("HTTP {status}"),
                    message: "SF refused the label download (token expired?)".into(),
                }
            });
        }
        let bytes =
            response.body_mut().read_to_vec().map_err(|e| CourierError::Unreachable(format!("label download: {e}")))?;
        if !bytes.starts_with(b"%PDF") {
            return Err(CourierError::Malformed("label download is not a PDF".into()));
        }
        Ok(bytes)
    }
}

/// Reads waybill, origin/destination and route label from a create-order `apiResultData`.
pub fn parse_create_order(data: &Value) -> Result<Shipment, CourierError> {
    let msg = data
        .get("msgData")
        .filter(|m| m.is_object())
        .ok_or_else(|| CourierError::Malformed("create order: no msgData".into()))?;
    let waybills = msg
        .get("waybillNoInfoList")
        .and_then(Value::as_array)
        .ok_or_else(|| CourierError::Malformed("create order: no waybillNoInfoList".into()))?;
    let main = waybills
        .iter()
        .find(|w| w.get("waybillType").and_then(Value::as_i64) == Some(1))
        .or_else(|| waybills.first())
        .ok_or_else(|| CourierError::Malformed("create order: empty waybillNoInfoList".into()))?;
    let waybill = text_of(main, "waybillNo");
    if waybill.is_empty() {
        return Err(CourierError::Malformed("create order: waybill number missing".into()));
    }
    let route = msg
        .get("routeLabelInfo")
        .and_then(Value::as_array)
        .and_then(|list| list.first())
        .filter(|info| matches!(text_of(info, "code").as_str(), "1000" | ""))
        .and_then(|info| info.get("routeLabelData"))
        .map(|d| RouteLabel {
            dest_route_label: text_of(d, "destRouteLabel"),
            two_dimension_code: text_of(d, "twoDimensionCode"),
            product_name: text_of(d, "proName"),
        })
        .filter(|r| !r.dest_route_label.is_empty() || !r.two_dimension_code.is_empty());
    Ok(Shipment { waybill, origin_code: text_of(msg, "originCode"), dest_code: text_of(msg, "destCode"), route })
}

impl Courier for SfClient {
    fn book(&self, request: &ShipmentRequest) -> Result<Booking, CourierError> {
        self.create_order(request).map(Booking::Booked)
    }

    fn queries_routes(&self) -> bool {
        true
    }

    fn routes(
        &self,
        waybill: &str,
        phone_tail: &str,
    ) -> Result<(Vec<crate::domain::route::RouteEvent>, String), CourierError> {
        self.search_routes(waybill, phone_tail)
    }

    fn describe(&self) -> String {
        format!("SF open platform {} as partner {}", self.base_url, self.partner_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding_follows_java_url_encoder() {
        assert_eq!(java_url_encode("a b*c-d_e.f~g"), "a+b*c-d_e.f%7Eg");
        assert_eq!(java_url_encode("{\"k\":\"顺丰\"}"), "%7B%22k%22%3A%22%E9%A1%BA%E4%B8%B0%22%7D");
        assert_eq!(java_url_encode("/+=&"), "%2F%2B%3D%26");
    }

    #[test]
    fn digest_is_base64_of_md5_of_the_encoded_concatenation() {
        // MD5("abc") = 900150983cd24fb0d6963f7d28e17f72
        assert_eq!(msg_digest("a", "b", "c"), "kAFQmDzST7DWlj99KOF/cg==");
        let d = msg_digest("{\"orderId\":\"0000250427000004\"}", "1700000000000", "check");
        assert_eq!(d.len(), 24);
    }

    #[test]
    fn reads_waybill_and_route_from_a_create_order_answer() {
        let data = json!({
            "success": true, "errorCode": "S0000", "errorMsg": null,
            "msgData": {
                "orderId": "0000250427000004", "originCode": "010", "destCode": "755",
                "waybillNoInfoList": [{"waybillType": 2, "waybillNo": "SF9999999999999"},
                                      {"waybillType": 1, "waybillNo": "SF1234567890123"}],
                "routeLabelInfo": [{"code": "1000", "message": null, "routeLabelData": {
                    "waybillNo": "SF1234567890123", "destRouteLabel": "755WE-571A",
                    "twoDimensionCode": "MMM={'k1':'755WE'}", "proName": "顺丰标快"}}]
            }
        });
        let s = parse_create_order(&data).expect("parse");
        assert_eq!(s.waybill, "SF1234567890123");
        assert_eq!(s.dest_code, "755");
        let route = s.route.expect("route");
        assert_eq!(route.dest_route_label, "755WE-571A");
        assert_eq!(route.product_name, "顺丰标快");
    }

    #[test]
    fn gateway_codes_have_plain_meanings() {
        assert!(gateway_code_meaning("A1006").0.contains("check_word"));
        assert!(gateway_code_meaning("A1009").1);
        assert!(!gateway_code_meaning("A1004").1);
    }
}
