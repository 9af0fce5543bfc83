//! A virtual card for the vpcd virtual reader (package vsmartcard-vpcd): connecting to the reader's
//! port inserts it, closing the connection pulls it. It answers power and ATR requests and refuses
//! every APDU ("instruction not supported"): the desk only watches presence over PC/SC and reaches
//! the key through PKCS#11 (SoftHSM in the demo). Demo and tests only; `keydesk dev virtual-card`.
//!
//! Protocol: each frame is a big-endian u16 length and the bytes; a 1-byte frame is a control message
//! (0 power off, 1 power on, 2 reset, 4 get ATR), anything longer a command APDU.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The first vpcd reader's port (`/etc/reader.conf.d/vpcd`: `Virtual PCD 00 00`).
pub const VPCD_PORT: u16 = 35963;

/// The demo key's ATR: what `scripts/demo` maps to SoftHSM in its `[[token.vendors]]`.
pub const DEMO_ATR: &str = "3B8F8001804F0CA0000003060300030000000068";

/// A card in the virtual reader until [`VirtualCard::remove`] (or drop).
pub struct VirtualCard {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl VirtualCard {
    /// Inserts a card with this ATR into the vpcd reader listening on `port`.
    pub fn insert(port: u16, atr: &[u8]) -> std::io::Result<VirtualCard> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_millis(100)))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, atr) = (stop.clone(), atr.to_vec());
        let thread = std::thread::spawn(move || serve(stream, &atr, &flag));
        Ok(VirtualCard { stop, thread: Some(thread) })
    }

    /// Whether the reader still holds the connection (false once vpcd closed it).
    pub fn is_inserted(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Pulls the card.
    pub fn remove(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for VirtualCard {
    fn drop(&mut self) {
        self.stop_now();
    }
}

fn frame(payload: &[u8]) -> Vec<u8> {
    [&(payload.len() as u16).to_be_bytes()[..], payload].concat()
}

fn serve(mut s: TcpStream, atr: &[u8], stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let mut len = [0u8; 2];
        match s.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
            Err(_) => return,
        }
        let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
        let _ = s.set_read_timeout(None);
        if s.read_exact(&mut msg).is_err() {
            return;
        }
        let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
        let reply = match msg.as_slice() {
            [4] => Some(frame(atr)),
            [_] => None,
            _ => Some(frame(&[0x6D, 0x00])),
        };
        // One write per reply (with TCP_NODELAY), else each APDU waits ~40 ms.
        if let Some(r) = reply {
            if s.write_all(&r).is_err() {
                return;
            }
        }
    }
}
