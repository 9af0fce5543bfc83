//! The desk's screens, one module each with its state, what its keys and results do to that state,
//! and how it is drawn: sign-in, scan (收件), search (查找), board (看板) and the order. `App` holds
//! one of each and routes keys and results to the screen on show; what crosses screens (the message
//! line, the prompt, the reader panel, the busy count, the print queue) stays in `App`.

pub mod board;
pub mod order;
pub mod scan;
pub mod search;
pub mod sign_in;

pub use board::BoardScreen;
pub use order::{OrderScreen, RenewProgress};
pub use scan::ScanScreen;
pub use search::SearchScreen;
pub use sign_in::SignInForm;

/// The selected row of a list, kept within its length.
#[derive(Debug, Clone, Default)]
pub struct ListState {
    pub selected: usize,
    pub offset: usize,
}

impl ListState {
    pub fn move_by(&mut self, delta: isize, len: usize) {
        if len == 0 {
            self.selected = 0;
            return;
        }
        let next = self.selected as isize + delta;
        self.selected = next.clamp(0, len as isize - 1) as usize;
    }
}
