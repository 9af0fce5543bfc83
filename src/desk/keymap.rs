//! Key bindings as data: every action the desk offers, its default key, and its description for the
//! help overlay. `[desk.keys]` in the configuration rebinds any action (`hold = "F6"`).

use std::collections::BTreeMap;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Serialize};

/// What a staff member can ask the desk to do with one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Help,
    Scan,
    Search,
    Board,
    Back,
    Hold,
    Release,
    Cancel,
    Reveal,
    Ship,
    Renew,
    Abandon,
    Print,
    Report,
    Refresh,
    Quit,
}

impl Action {
    pub const ALL: [Action; 16] = [
        Action::Help,
        Action::Scan,
        Action::Search,
        Action::Board,
        Action::Back,
        Action::Hold,
        Action::Release,
        Action::Cancel,
        Action::Reveal,
        Action::Ship,
        Action::Renew,
        Action::Abandon,
        Action::Print,
        Action::Report,
        Action::Refresh,
        Action::Quit,
    ];

    pub fn default_key(self) -> &'static str {
        match self {
            Action::Help => "F1",
            Action::Scan => "F2",
            Action::Search => "F3",
            Action::Board => "F4",
            Action::Back => "Esc",
            Action::Hold => "F5",
            Action::Release => "F6",
            Action::Cancel => "F7",
            Action::Reveal => "F8",
            Action::Ship => "F9",
            Action::Renew => "F10",
            Action::Abandon => "F12",
            Action::Print => "F11",
            Action::Report => "Ctrl-E",
            Action::Refresh => "Ctrl-R",
            Action::Quit => "Ctrl-Q",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Action::Help => "帮助：显示全部快捷键",
            Action::Scan => "收件：扫描运单",
            Action::Search => "查找订单（公司、手机尾号、账号、KEY 编号、订单号）",
            Action::Board => "看板：待办订单",
            Action::Back => "返回 / 关闭",
            Action::Hold => "挂起订单（填写原因）",
            Action::Release => "解除挂起（填写原因）",
            Action::Cancel => "取消未支付订单（填写原因）",
            Action::Reveal => "显示完整个人信息（记入审计）",
            Action::Ship => "发货：扫描寄回运单，订单改为待收货",
            Action::Renew => "续签：核对读卡器中的 KEY，输入 PIN，更新证书",
            Action::Abandon => "放弃续签：移除任务在 KEY 上的新对象，原证书保留",
            Action::Print => "打印寄回面单和发票（发货后）",
            Action::Report => "看板上：把上周（周一至周日）报表写入导出文件夹",
            Action::Refresh => "刷新",
            Action::Quit => "退出",
        }
    }
}

/// A parsed key: `F5`, `Esc`, `Enter`, `Ctrl-R`, `Alt-x`, `Tab`, `Up`, a single character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl KeySpec {
    pub fn parse(text: &str) -> Result<KeySpec, String> {
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = text.trim();
        loop {
            if let Some(r) = rest.strip_prefix("Ctrl-").or_else(|| rest.strip_prefix("ctrl-")) {
                modifiers |= KeyModifiers::CONTROL;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("Alt-").or_else(|| rest.strip_prefix("alt-")) {
                modifiers |= KeyModifiers::ALT;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "Esc" => KeyCode::Esc,
            "Enter" => KeyCode::Enter,
            "Tab" => KeyCode::Tab,
            "Up" => KeyCode::Up,
            "Down" => KeyCode::Down,
            "PageUp" => KeyCode::PageUp,
            "PageDown" => KeyCode::PageDown,
            f if f.len() >= 2 && f.starts_with('F') && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) => {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().unwrap_or(' ').to_ascii_lowercase()),
            other => return Err(format!("unknown key {other:?} (use e.g. F5, Esc, Ctrl-R, Alt-x)")),
        };
        if matches!(code, KeyCode::Char(_)) && modifiers.is_empty() {
            return Err(format!("{text:?}: a plain character would be taken by the scan field; use Ctrl- or Alt-"));
        }
        Ok(KeySpec { code, modifiers })
    }

    pub fn matches(&self, key: &KeyEvent) -> bool {
        let code = match key.code {
            KeyCode::Char(c) => KeyCode::Char(c.to_ascii_lowercase()),
            other => other,
        };
        code == self.code && key.modifiers.difference(KeyModifiers::SHIFT) == self.modifiers
    }
}

/// The bindings in force, with the text shown in the help overlay.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<(Action, KeySpec, String)>,
}

impl Keymap {
    /// Defaults, overridden by the configuration (`action = "key"`).
    pub fn new(overrides: &BTreeMap<Action, String>) -> Result<Keymap, String> {
        let mut bindings = Vec::new();
        for action in Action::ALL {
            let text = overrides.get(&action).map(String::as_str).unwrap_or(action.default_key());
            let spec = KeySpec::parse(text).map_err(|e| format!("desk.keys.{}: {e}", serde_plain(action)))?;
            if let Some((other, _, _)) = bindings.iter().find(|(_, s, _): &&(Action, KeySpec, String)| *s == spec) {
                return Err(format!(
                    "desk.keys: {text} is bound to both {} and {}",
                    serde_plain(*other),
                    serde_plain(action)
                ));
            }
            bindings.push((action, spec, text.to_string()));
        }
        Ok(Keymap { bindings })
    }

    pub fn action_for(&self, key: &KeyEvent) -> Option<Action> {
        self.bindings.iter().find(|(_, spec, _)| spec.matches(key)).map(|(a, _, _)| *a)
    }

    pub fn key_text(&self, action: Action) -> &str {
        self.bindings.iter().find(|(a, _, _)| *a == action).map(|(_, _, t)| t.as_str()).unwrap_or("")
    }

    pub fn entries(&self) -> impl Iterator<Item = (Action, &str)> {
        self.bindings.iter().map(|(a, _, t)| (*a, t.as_str()))
    }
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::new(&BTreeMap::new()).unwrap_or(Keymap { bindings: Vec::new() })
    }
}

fn serde_plain(action: Action) -> String {
    serde_json::to_value(action).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_overrides_apply() {
        let km = Keymap::default();
        assert_eq!(km.action_for(&KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE)), Some(Action::Hold));
        let mut o = BTreeMap::new();
        o.insert(Action::Hold, "Alt-h".to_string());
        let km = Keymap::new(&o).unwrap();
        assert_eq!(km.action_for(&KeyEvent::new(KeyCode::Char('h'), KeyModifiers::ALT)), Some(Action::Hold));
        assert_eq!(km.action_for(&KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE)), None);
    }

    #[test]
    fn bad_bindings_are_refused_with_the_key_named() {
        let mut o = BTreeMap::new();
        o.insert(Action::Hold, "h".to_string());
        assert!(Keymap::new(&o).unwrap_err().contains("desk.keys.hold"));
        let mut o = BTreeMap::new();
        o.insert(Action::Hold, "F2".to_string());
        assert!(Keymap::new(&o).unwrap_err().contains("bound to both"));
        assert!(KeySpec::parse("Hyper-x").is_err());
    }
}
