//! Watching card readers over PC/SC (crate `pcsc`): readers added and removed, cards inserted (with
//! their ATR, which picks the vendor's PKCS#11 module) and removed. The watch only observes presence —
//! it never connects to a card, so it can never reset a member's key. It survives pcscd being absent
//! (it says so once and keeps retrying) and pcscd restarting (it establishes a new context).

use std::collections::BTreeMap;
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pcsc::{Context, Error as PcscError, ReaderState, Scope, State};
use serde::Serialize;

use super::TokenSettings;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ReaderEvent {
    /// pcscd does not answer; the watch keeps retrying.
    ServiceUnavailable {
        message: String,
    },
    ServiceAvailable,
    ReaderAdded {
        reader: String,
    },
    ReaderRemoved {
        reader: String,
    },
    CardInserted {
        reader: String,
        atr: String,
        vendor: Option<String>,
        module: String,
    },
    CardRemoved {
        reader: String,
    },
}

impl ReaderEvent {
    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            ReaderEvent::ServiceUnavailable { message } => format!("pcscd 未运行或无响应（{message}），继续重试"),
            ReaderEvent::ServiceAvailable => "pcscd 已连接".into(),
            ReaderEvent::ReaderAdded { reader } => format!("读卡器接入：{reader}"),
            ReaderEvent::ReaderRemoved { reader } => format!("读卡器移除：{reader}"),
            ReaderEvent::CardInserted { reader, atr, vendor, module } => {
                format!("插入 KEY：{reader}  ATR {atr}  厂商 {}  模块 {module}", vendor.as_deref().unwrap_or("默认"))
            }
            ReaderEvent::CardRemoved { reader } => format!("拔出 KEY：{reader}"),
        }
    }
}

fn is_service_down(e: PcscError) -> bool {
    matches!(
        e,
        PcscError::NoService
            | PcscError::ServiceStopped
            | PcscError::InvalidHandle
            | PcscError::CommError
            | PcscError::InternalError
    )
}

/// How often an empty reader list is taken again.
const EMPTY_RELIST: Duration = Duration::from_secs(2);

/// What the watch knows of one reader.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    atr: Option<Vec<u8>>,
}

/// Watches until `stop` is set, calling `emit` for every change. Blocking: run it on its own thread.
pub fn watch(settings: &TokenSettings, retry: Duration, stop: &AtomicBool, emit: &mut dyn FnMut(ReaderEvent)) {
    let mut known: BTreeMap<CString, Seen> = BTreeMap::new();
    let mut down: Option<String> = None;
    while !stop.load(Ordering::Relaxed) {
        let ctx = match Context::establish(Scope::User) {
            Ok(c) => c,
            Err(e) => {
                if down.as_deref() != Some(&e.to_string()) {
                    emit(ReaderEvent::ServiceUnavailable { message: e.to_string() });
                    down = Some(e.to_string());
                }
                std::thread::sleep(retry);
                continue;
            }
        };
        if down.take().is_some() {
            emit(ReaderEvent::ServiceAvailable);
        }
        if let Err(e) = watch_context(&ctx, settings, stop, &mut known, emit) {
            emit(ReaderEvent::ServiceUnavailable { message: e.to_string() });
            down = Some(e.to_string());
            std::thread::sleep(retry);
        }
    }
}

/// Runs on one context until pcscd goes away (an error) or `stop` is set (Ok).
fn watch_context(
    ctx: &Context,
    settings: &TokenSettings,
    stop: &AtomicBool,
    known: &mut BTreeMap<CString, Seen>,
    emit: &mut dyn FnMut(ReaderEvent),
) -> Result<(), PcscError> {
    while !stop.load(Ordering::Relaxed) {
        let readers = match ctx.list_readers_owned() {
            Ok(r) => r,
            Err(PcscError::NoReadersAvailable) => Vec::new(),
            Err(e) => return Err(e),
        };
        let gone: Vec<CString> = known.keys().filter(|k| !readers.contains(k)).cloned().collect();
        for name in gone {
            if let Some(Seen { atr: Some(_) }) = known.remove(&name) {
                emit(ReaderEvent::CardRemoved { reader: name.to_string_lossy().into_owned() });
            }
            emit(ReaderEvent::ReaderRemoved { reader: name.to_string_lossy().into_owned() });
        }
        for name in &readers {
            if !known.contains_key(name) {
                known.insert(name.clone(), Seen { atr: None });
                emit(ReaderEvent::ReaderAdded { reader: name.to_string_lossy().into_owned() });
            }
        }
        let mut states: Vec<ReaderState> =
            readers.iter().map(|r| ReaderState::new(r.clone(), State::UNAWARE)).collect();
        states.push(ReaderState::new(pcsc::PNP_NOTIFICATION(), State::UNAWARE));
        let mut first = true;
        let listed = std::time::Instant::now();
        'readers: while !stop.load(Ordering::Relaxed) {
            match ctx.get_status_change(if first { Duration::ZERO } else { Duration::from_millis(500) }, &mut states) {
                Ok(()) => {}
                // Readers from pcscd's configuration (vpcd's) are not announced as plugged in: a list
                // taken while pcscd was still starting stays empty, so an empty one is taken again.
                Err(PcscError::Timeout) if !first && readers.is_empty() && listed.elapsed() >= EMPTY_RELIST => {
                    break 'readers
                }
                Err(PcscError::Timeout) if !first => continue,
                Err(PcscError::Timeout) => {}
                Err(e) if is_service_down(e) => return Err(e),
                Err(PcscError::UnknownReader) => break 'readers,
                Err(e) => return Err(e),
            }
            first = false;
            let mut relist = false;
            for rs in &mut states {
                if rs.name() == pcsc::PNP_NOTIFICATION() {
                    if rs.event_state().contains(State::CHANGED) && rs.current_state() != State::UNAWARE {
                        relist = true;
                    }
                } else {
                    let name = rs.name().to_owned();
                    let ev = rs.event_state();
                    let now = if ev.contains(State::PRESENT) && !ev.contains(State::EMPTY) {
                        Some(rs.atr().to_vec())
                    } else {
                        None
                    };
                    if ev.intersects(State::UNKNOWN | State::UNAVAILABLE | State::IGNORE) {
                        relist = true;
                    }
                    let seen = known.entry(name.clone()).or_insert(Seen { atr: None });
                    if seen.atr != now {
                        if seen.atr.is_some() {
                            emit(ReaderEvent::CardRemoved { reader: name.to_string_lossy().into_owned() });
                        }
                        if let Some(atr) = &now {
                            let (vendor, module) = settings.module_for_atr(atr);
                            emit(ReaderEvent::CardInserted {
                                reader: name.to_string_lossy().into_owned(),
                                atr: hex::encode_upper(atr),
                                vendor: vendor.map(str::to_string),
                                module: module.display().to_string(),
                            });
                        }
                        seen.atr = now;
                    }
                }
                rs.sync_current_state();
            }
            if relist {
                break 'readers;
            }
        }
    }
    Ok(())
}

/// The cards present right now, as (reader, ATR): a quick look (no waiting) for commands that want
/// the module for the key in the reader. Empty when pcscd is absent.
pub fn present_cards() -> Vec<(String, Vec<u8>)> {
    let Ok(ctx) = Context::establish(Scope::User) else { return Vec::new() };
    let Ok(readers) = ctx.list_readers_owned() else { return Vec::new() };
    let mut states: Vec<ReaderState> = readers.into_iter().map(|r| ReaderState::new(r, State::UNAWARE)).collect();
    if states.is_empty() || ctx.get_status_change(Duration::ZERO, &mut states).is_err() {
        return Vec::new();
    }
    states
        .iter()
        .filter(|rs| rs.event_state().contains(State::PRESENT))
        .map(|rs| (rs.name().to_string_lossy().into_owned(), rs.atr().to_vec()))
        .collect()
}
