//! Telling a USB scanner from a person typing. A keyboard-wedge scanner types a whole waybill and Enter
//! within tens of milliseconds; people leave 80 ms or more between keys. The detector watches the gaps
//! of the characters since the last Enter.

use std::time::{Duration, Instant};

/// The widest gap between two scanned characters.
pub const MAX_SCAN_GAP: Duration = Duration::from_millis(35);
/// The fewest characters a scan has (a legacy SF number has 12).
pub const MIN_SCAN_LEN: usize = 10;

#[derive(Debug, Default, Clone)]
pub struct ScanDetector {
    count: usize,
    last: Option<Instant>,
    all_fast: bool,
}

impl ScanDetector {
    /// Records one typed character.
    pub fn char_at(&mut self, at: Instant) {
        match self.last {
            None => self.all_fast = true,
            Some(prev) => self.all_fast &= at.saturating_duration_since(prev) <= MAX_SCAN_GAP,
        }
        self.last = Some(at);
        self.count += 1;
    }

    /// Enter was pressed: whether what came before was a scanner burst. Starts over.
    pub fn enter_at(&mut self, at: Instant) -> bool {
        let burst = self.count >= MIN_SCAN_LEN
            && self.all_fast
            && self.last.is_some_and(|l| at.saturating_duration_since(l) <= MAX_SCAN_GAP);
        *self = ScanDetector::default();
        burst
    }

    pub fn reset(&mut self) {
        *self = ScanDetector::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(gaps_ms: &[u64], enter_after_ms: u64) -> bool {
        let t0 = Instant::now();
        let mut d = ScanDetector::default();
        let mut t = t0;
        d.char_at(t);
        for g in gaps_ms {
            t += Duration::from_millis(*g);
            d.char_at(t);
        }
        d.enter_at(t + Duration::from_millis(enter_after_ms))
    }

    #[test]
    fn a_fast_burst_is_a_scan_and_typing_is_not() {
        assert!(feed(&[4; 14], 5), "15 chars at 4 ms");
        assert!(!feed(&[120; 14], 150), "typed by hand");
        assert!(!feed(&[4; 5], 5), "too short");
        assert!(!feed(&[4, 4, 4, 4, 200, 4, 4, 4, 4, 4, 4, 4, 4, 4], 5), "a pause inside");
        assert!(!feed(&[4; 14], 500), "Enter pressed by hand later");
    }
}
