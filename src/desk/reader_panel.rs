//! The reader panel: what pcscd reports (no service, no reader, empty, a key with its ATR and vendor),
//! who the inserted key belongs to once it is identified, and — for the order on screen — whether it
//! is that order's key and what its PIN state is (low, final try, locked), before any PIN is typed.
//! Pure state: `Msg::Reader` and `Msg::KeyIdentified` feed it; the identification itself runs as an
//! effect in the background.

use std::collections::BTreeMap;

use crate::domain::Order;
use crate::ops::identify::IdentifiedKey;
use crate::token::pkcs11::PinFlags;
use crate::token::reader::ReaderEvent;

/// A key in a reader, as pcscd reported it, and what identification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsertedKey {
    pub atr: String,
    pub vendor: String,
    /// The PKCS#11 module the ATR chose.
    pub module: String,
    pub identity: Identity,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Pending,
    Known(Vec<IdentifiedKey>),
    Failed(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReaderPanel {
    /// `Some(message)` while pcscd does not answer.
    pub service_down: Option<String>,
    /// Reader name → the inserted key, `None` when empty.
    pub readers: BTreeMap<String, Option<InsertedKey>>,
}

/// Whether the key in the reader is the order's: what the desk says before F10.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyVerdict {
    /// No pcscd, no reader or no key: nothing to compare (the renewal still checks the token itself).
    NoKey(String),
    Identifying,
    Failed(String),
    /// The order's key: its serial, and whether the order's certificate is on it.
    Matches {
        serial: String,
        certificate_matches: bool,
        pin: PinFlags,
    },
    /// Keys are in, none is this order's.
    Other {
        serials: Vec<String>,
        belongs_to: Option<String>,
    },
}

impl KeyVerdict {
    /// Refuses a renewal before the PIN is asked: another order's key, or a locked PIN.
    pub fn refusal(&self) -> Option<String> {
        match self {
            KeyVerdict::Other { serials, belongs_to } => Some(format!(
                "读卡器中的 KEY（{}）不是本订单的{}：请换上本订单的 KEY",
                serials.join("、"),
                belongs_to.as_deref().map(|o| format!("，属于订单 {o}")).unwrap_or_default()
            )),
            KeyVerdict::Matches { pin, .. } if pin.locked => {
                Some("KEY 的 PIN 已锁定：请客户联系 CA 解锁后再续签".into())
            }
            _ => None,
        }
    }

    /// The PIN state in words, when the key is known.
    pub fn pin_text(&self) -> Option<&'static str> {
        match self {
            KeyVerdict::Matches { pin, .. } => Some(pin_state(pin)),
            _ => None,
        }
    }
}

/// PKCS#11 shows flags, never a count.
pub fn pin_state(pin: &PinFlags) -> &'static str {
    if pin.locked {
        "PIN 已锁定"
    } else if pin.final_try {
        "PIN 仅剩最后一次机会"
    } else if pin.count_low {
        "PIN 曾输错，剩余次数不多"
    } else {
        "PIN 正常"
    }
}

impl ReaderPanel {
    /// Applies a pcscd event; returns the (reader, ATR, module) to identify when a key was inserted.
    pub fn apply(&mut self, event: ReaderEvent) -> Option<(String, String, String)> {
        match event {
            ReaderEvent::ServiceUnavailable { message } => {
                self.service_down = Some(message);
                self.readers.clear();
            }
            ReaderEvent::ServiceAvailable => self.service_down = None,
            ReaderEvent::ReaderAdded { reader } => {
                self.readers.entry(reader).or_insert(None);
            }
            ReaderEvent::ReaderRemoved { reader } => {
                self.readers.remove(&reader);
            }
            ReaderEvent::CardInserted { reader, atr, vendor, module } => {
                let key = InsertedKey {
                    atr: atr.clone(),
                    vendor: vendor.unwrap_or_else(|| "默认模块".into()),
                    module: module.clone(),
                    identity: Identity::Pending,
                };
                self.readers.insert(reader.clone(), Some(key));
                return Some((reader, atr, module));
            }
            ReaderEvent::CardRemoved { reader } => {
                self.readers.insert(reader, None);
            }
        }
        None
    }

    /// Forgets what identification found for every inserted key (a renewal or an abandoned job changed
    /// what is on it); returns the (reader, ATR, module) to identify again.
    pub fn reidentify(&mut self) -> Vec<(String, String, String)> {
        let mut again = Vec::new();
        for (reader, key) in self.readers.iter_mut() {
            if let Some(key) = key {
                key.identity = Identity::Pending;
                again.push((reader.clone(), key.atr.clone(), key.module.clone()));
            }
        }
        again
    }

    /// Records what identification found, unless the key was pulled (or changed) meanwhile.
    pub fn identified(&mut self, reader: &str, atr: &str, result: Result<Vec<IdentifiedKey>, String>) {
        if let Some(Some(key)) = self.readers.get_mut(reader) {
            if key.atr == atr {
                key.identity = match result {
                    Ok(keys) => Identity::Known(keys),
                    Err(e) => Identity::Failed(e),
                };
            }
        }
    }

    fn inserted(&self) -> impl Iterator<Item = (&String, &InsertedKey)> {
        self.readers.iter().filter_map(|(r, k)| k.as_ref().map(|k| (r, k)))
    }

    /// One line: no pcscd, no reader, empty, or the keys that are in (with whose they are).
    pub fn summary(&self) -> String {
        if let Some(m) = &self.service_down {
            return format!("读卡器服务 pcscd 未响应（{m}）");
        }
        if self.readers.is_empty() {
            return "未连接读卡器".into();
        }
        let keys: Vec<String> = self
            .inserted()
            .map(|(r, k)| {
                let whose = match &k.identity {
                    Identity::Pending => "，识别中…".to_string(),
                    Identity::Failed(e) => format!("，识别失败：{e}"),
                    Identity::Known(ids) if ids.is_empty() => "，模块中没有 KEY".to_string(),
                    Identity::Known(ids) => ids
                        .iter()
                        .map(|i| format!("，KEY {} → {}", i.serial, i.order_no.as_deref().unwrap_or("无订单")))
                        .collect::<String>(),
                };
                format!("{r}：已插入 KEY（{}，ATR {}{whose}）", k.vendor, k.atr)
            })
            .collect();
        if keys.is_empty() {
            "读卡器空：请插入客户的 KEY".into()
        } else {
            keys.join("；")
        }
    }

    /// The reader and ATR of the inserted key identified as `order`'s.
    pub fn holding(&self, order: &Order) -> Option<(String, String)> {
        self.inserted().find_map(|(reader, key)| match &key.identity {
            Identity::Known(ids) if ids.iter().any(|id| order.key_serial.is(&id.serial)) => {
                Some((reader.clone(), key.atr.clone()))
            }
            _ => None,
        })
    }

    /// Whether the key in the reader is `order`'s.
    pub fn verdict(&self, order: &Order) -> KeyVerdict {
        let keys: Vec<&InsertedKey> = self.inserted().map(|(_, k)| k).collect();
        if self.service_down.is_some() || keys.is_empty() {
            return KeyVerdict::NoKey(self.summary());
        }
        let mut others = Vec::new();
        let mut belongs_to = None;
        let mut pending = false;
        let mut failed = None;
        for key in keys {
            match &key.identity {
                Identity::Pending => pending = true,
                Identity::Failed(e) => failed = Some(e.clone()),
                Identity::Known(ids) => {
                    for id in ids {
                        if order.key_serial.is(&id.serial) {
                            return KeyVerdict::Matches {
                                serial: id.serial.clone(),
                                certificate_matches: id.certificate_matches,
                                pin: id.pin,
                            };
                        }
                        others.push(id.serial.clone());
                        belongs_to = belongs_to.or_else(|| id.order_no.clone());
                    }
                }
            }
        }
        match (pending, failed) {
            (true, _) => KeyVerdict::Identifying,
            (false, Some(e)) => KeyVerdict::Failed(e),
            (false, None) if others.is_empty() => KeyVerdict::NoKey("模块中没有 KEY".into()),
            (false, None) => KeyVerdict::Other { serials: others, belongs_to },
        }
    }
}
