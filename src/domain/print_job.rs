//! The print queue's two closed sets, with stable codes (`print_jobs.kind`, `print_jobs.state`): which
//! document a job prints, and where it stands.

use std::fmt;

use serde::{Serialize, Serializer};

/// The document a print job prints; also the name of the printer it goes to (`[printer.label]`,
/// `[printer.invoice]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrintKind {
    Label,
    Invoice,
}

impl PrintKind {
    pub const ALL: [PrintKind; 2] = [PrintKind::Label, PrintKind::Invoice];

    pub fn code(self) -> &'static str {
        match self {
            PrintKind::Label => "label",
            PrintKind::Invoice => "invoice",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PrintKind::Label => "面单",
            PrintKind::Invoice => "发票",
        }
    }

    pub fn parse(code: &str) -> Option<PrintKind> {
        PrintKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Where a print job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrintState {
    /// Waiting for its turn, or for a printer to come back.
    Queued,
    Done,
    /// Given up: a permanent error, or the attempts ran out.
    Failed,
}

impl PrintState {
    pub const ALL: [PrintState; 3] = [PrintState::Queued, PrintState::Done, PrintState::Failed];

    pub fn code(self) -> &'static str {
        match self {
            PrintState::Queued => "queued",
            PrintState::Done => "done",
            PrintState::Failed => "failed",
        }
    }

    /// The state's label for people.
    pub fn label(self) -> &'static str {
        match self {
            PrintState::Queued => "排队中",
            PrintState::Done => "已打印",
            PrintState::Failed => "打印失败",
        }
    }

    pub fn parse(code: &str) -> Option<PrintState> {
        PrintState::ALL.into_iter().find(|s| s.code() == code)
    }
}

impl fmt::Display for PrintKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

impl fmt::Display for PrintState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

impl Serialize for PrintKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl Serialize for PrintState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back() {
        for k in PrintKind::ALL {
            assert_eq!(PrintKind::parse(k.code()), Some(k));
        }
        for s in PrintState::ALL {
            assert_eq!(PrintState::parse(s.code()), Some(s));
        }
        assert_eq!(PrintState::parse("printed"), None);
    }
}
