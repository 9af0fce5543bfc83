//! `[desk]`: this desk's name in the audit log, whether shipping prints at once, and the key bindings
//! that replace the defaults.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeskSettings {
    /// This desk's name in the audit log, to tell desks sharing one database apart.
    pub name: String,
    /// Queue the label and the invoice for printing as soon as an order ships (no F11).
    pub print_on_ship: bool,
    /// Key bindings that replace the defaults, e.g. `hold = "Alt-h"` (see the help overlay, F1).
    pub keys: std::collections::BTreeMap<super::keymap::Action, String>,
}

impl Default for DeskSettings {
    fn default() -> Self {
        DeskSettings { name: "desk-1".into(), print_on_ship: true, keys: Default::default() }
    }
}
