//! The modal prompt over an open order: the reason of a change (a hold also picks its reason from the
//! list), the return waybill of a shipment, the key's PIN for a renewal, or the two steps of 放弃续签
//! (its reason, then the PIN). What is typed lives in the variant that needs it, and a PIN only ever
//! in a [`Pin`]: shown as dots, never printed, wiped from memory when dropped.

use zeroize::Zeroizing;

use crate::domain::order::Change;
use crate::domain::{HoldReason, OrderNo};

/// A key PIN on its way to the token worker: never printed, wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(pub Zeroizing<String>);

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(***)")
    }
}

impl Default for Pin {
    fn default() -> Self {
        Pin(Zeroizing::new(String::with_capacity(64)))
    }
}

impl Pin {
    /// Appends a typed character. A longer PIN moves to a larger buffer, and the old one is wiped
    /// (a `String` that grows in place would leave a copy behind).
    pub fn push(&mut self, c: char) {
        if self.0.len() + c.len_utf8() > self.0.capacity() {
            let mut bigger = Zeroizing::new(String::with_capacity(self.0.capacity() * 2 + 8));
            bigger.push_str(&self.0);
            self.0 = bigger;
        }
        self.0.push(c);
    }

    pub fn pop(&mut self) {
        self.0.pop();
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn len(&self) -> usize {
        self.0.chars().count()
    }
}

/// What is being typed, and for what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptInput {
    /// 挂起 / 解除挂起 / 取消: the change and its reason; a hold also picks a reason from the list.
    Reason { change: Change, text: String, hold_reason: Option<usize> },
    /// 发货: the return waybill; empty books the shipment with the configured courier.
    Waybill { text: String },
    /// 续签: the key's PIN.
    Pin { pin: Pin },
    /// 放弃续签, first step: why.
    AbandonReason { text: String },
    /// 放弃续签, second step: the PIN, to remove what the job made on the key.
    AbandonPin { reason: String, pin: Pin },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub title: String,
    pub order_no: OrderNo,
    pub input: PromptInput,
}

/// What Enter on a prompt asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Submit {
    /// The prompt stays open: something is missing.
    Again {
        prompt: Prompt,
        warning: &'static str,
    },
    /// The next step of the same prompt.
    Next(Prompt),
    Change {
        order_no: OrderNo,
        change: Change,
        reason: String,
    },
    Ship {
        order_no: OrderNo,
        waybill: String,
    },
    Renew {
        order_no: OrderNo,
        pin: Pin,
    },
    Abandon {
        order_no: OrderNo,
        reason: String,
        pin: Pin,
    },
}

impl Prompt {
    /// What a scanner sent into a PIN field (a burst of at least `MIN_SCAN_LEN` characters, which no
    /// person types): the scan, never submitted as a PIN. `None` for other fields.
    pub fn into_scan(self) -> Option<String> {
        match self.input {
            PromptInput::Pin { pin } | PromptInput::AbandonPin { pin, .. } => Some(pin.0.trim().to_string()),
            _ => None,
        }
    }

    pub fn is_pin(&self) -> bool {
        matches!(self.input, PromptInput::Pin { .. } | PromptInput::AbandonPin { .. })
    }

    /// The hold reason picked from the list, for a hold.
    pub fn hold_reason(&self) -> Option<usize> {
        match &self.input {
            PromptInput::Reason { hold_reason, .. } => *hold_reason,
            _ => None,
        }
    }

    /// The field's label and what it shows: a PIN as one dot per character.
    pub fn field(&self) -> (&'static str, String) {
        match &self.input {
            PromptInput::Reason { text, .. } | PromptInput::AbandonReason { text } => ("原因", text.clone()),
            PromptInput::Waybill { text } => ("运单", text.clone()),
            PromptInput::Pin { pin } | PromptInput::AbandonPin { pin, .. } => ("PIN", "•".repeat(pin.len())),
        }
    }

    pub fn push(&mut self, c: char) {
        match &mut self.input {
            PromptInput::Reason { text, .. } | PromptInput::AbandonReason { text } | PromptInput::Waybill { text } => {
                text.push(c)
            }
            PromptInput::Pin { pin } | PromptInput::AbandonPin { pin, .. } => pin.push(c),
        }
    }

    pub fn pop(&mut self) {
        match &mut self.input {
            PromptInput::Reason { text, .. } | PromptInput::AbandonReason { text } | PromptInput::Waybill { text } => {
                text.pop();
            }
            PromptInput::Pin { pin } | PromptInput::AbandonPin { pin, .. } => pin.pop(),
        }
    }

    /// Moves the hold reason picked from the list (wrapping round).
    pub fn move_selection(&mut self, delta: isize) {
        if let PromptInput::Reason { hold_reason: Some(i), .. } = &mut self.input {
            let n = HoldReason::ALL.len() as isize;
            *i = ((*i as isize + delta).rem_euclid(n)) as usize;
        }
    }

    /// Enter: what the typed input asks for, or the prompt again with what is missing.
    pub fn submit(self) -> Submit {
        let Prompt { title, order_no, input } = self;
        match input {
            PromptInput::Reason { change, text, hold_reason } => {
                let change = match (change, hold_reason) {
                    (Change::Hold { resume_to, .. }, Some(i)) => Change::Hold { reason: HoldReason::ALL[i], resume_to },
                    (other, _) => other,
                };
                if !matches!(change, Change::Hold { .. }) && text.trim().is_empty() {
                    let prompt = Prompt { title, order_no, input: PromptInput::Reason { change, text, hold_reason } };
                    return Submit::Again { prompt, warning: "请填写原因" };
                }
                Submit::Change { order_no, change, reason: text }
            }
            PromptInput::Waybill { text } => Submit::Ship { order_no, waybill: text },
            PromptInput::Pin { pin } if pin.is_empty() => Submit::Again {
                prompt: Prompt { title, order_no, input: PromptInput::Pin { pin } },
                warning: "请输入 PIN",
            },
            PromptInput::Pin { pin } => Submit::Renew { order_no, pin },
            PromptInput::AbandonReason { text } if text.trim().is_empty() => Submit::Again {
                prompt: Prompt { title, order_no, input: PromptInput::AbandonReason { text } },
                warning: "请填写放弃续签的原因",
            },
            PromptInput::AbandonReason { text } => Submit::Next(Prompt {
                title: "放弃续签：输入 KEY 的 PIN（用于移除任务在 KEY 上的对象）".into(),
                order_no,
                input: PromptInput::AbandonPin { reason: text.trim().to_string(), pin: Pin::default() },
            }),
            PromptInput::AbandonPin { reason, pin } if pin.is_empty() => Submit::Again {
                prompt: Prompt { title, order_no, input: PromptInput::AbandonPin { reason, pin } },
                warning: "请输入 PIN",
            },
            PromptInput::AbandonPin { reason, pin } => Submit::Abandon { order_no, reason, pin },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin_prompt() -> Prompt {
        Prompt {
            title: "续签".into(),
            order_no: OrderNo::parse("0000261121000001").unwrap(),
            input: PromptInput::Pin { pin: Pin::default() },
        }
    }

    #[test]
    fn a_pin_shows_as_dots_and_never_in_debug_output() {
        let mut p = pin_prompt();
        for c in "123456".chars() {
            p.push(c);
        }
        assert_eq!(p.field(), ("PIN", "••••••".to_string()));
        assert!(!format!("{p:?}").contains("123456"));
        let Submit::Renew { pin, .. } = p.submit() else { panic!("renews") };
        assert_eq!(pin.0.as_str(), "123456");
    }

    #[test]
    fn a_long_pin_grows_into_a_new_buffer_and_keeps_every_character() {
        let mut pin = Pin::default();
        let long: String = std::iter::repeat_n('7', 200).collect();
        for c in long.chars() {
            pin.push(c);
        }
        assert_eq!(pin.0.as_str(), long);
    }

    #[test]
    fn an_empty_pin_or_reason_keeps_the_prompt_open() {
        assert!(matches!(pin_prompt().submit(), Submit::Again { warning: "请输入 PIN", .. }));
        let cancel = Prompt {
            title: "取消订单".into(),
            order_no: OrderNo::parse("0000261121000001").unwrap(),
            input: PromptInput::Reason {
                change: Change::MoveTo(crate::domain::Status::Cancelled),
                text: " ".into(),
                hold_reason: None,
            },
        };
        assert!(matches!(cancel.submit(), Submit::Again { warning: "请填写原因", .. }));
    }

    #[test]
    fn abandoning_asks_for_the_reason_then_the_pin() {
        let mut p = Prompt {
            title: "放弃续签".into(),
            order_no: OrderNo::parse("0000261121000001").unwrap(),
            input: PromptInput::AbandonReason { text: String::new() },
        };
        "KEY 损坏".chars().for_each(|c| p.push(c));
        let Submit::Next(mut p) = p.submit() else { panic!("then the PIN") };
        assert!(p.is_pin());
        p.push('1');
        assert_eq!(
            p.submit(),
            Submit::Abandon {
                order_no: OrderNo::parse("0000261121000001").unwrap(),
                reason: "KEY 损坏".into(),
                pin: Pin(Zeroizing::new("1".into()))
            }
        );
    }
}
