//! The sign-in form: operator name and password (or PIN), Tab between them, Enter to sign in. The
//! secret leaves the form with the sign-in effect and is not kept.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::{Color, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use crate::desk::app::Effect;
use crate::desk::widgets::centered;

#[derive(Debug, Clone, Default)]
pub struct SignInForm {
    pub name: String,
    pub secret: String,
    pub on_secret: bool,
    pub error: Option<String>,
    pub busy: bool,
}

impl SignInForm {
    /// What a key does on the form: edits it, or hands over the sign-in to try.
    pub fn on_key(&mut self, key: KeyEvent) -> Option<Effect> {
        match key.code {
            KeyCode::Tab | KeyCode::Up | KeyCode::Down => self.on_secret = !self.on_secret,
            KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                self.error = None;
                if self.on_secret {
                    self.secret.push(c);
                } else {
                    self.name.push(c);
                }
            }
            KeyCode::Backspace => {
                if self.on_secret {
                    self.secret.pop();
                } else {
                    self.name.pop();
                }
            }
            KeyCode::Enter if !self.on_secret => self.on_secret = true,
            KeyCode::Enter => {
                if self.name.trim().is_empty() || self.secret.is_empty() {
                    self.error = Some("请输入操作员和密码".into());
                    return None;
                }
                self.busy = true;
                return Some(Effect::SignIn {
                    name: self.name.trim().to_string(),
                    secret: std::mem::take(&mut self.secret),
                });
            }
            _ => {}
        }
        None
    }

    /// The sign-in was refused: the name stays, the secret is asked again.
    pub fn refused(&mut self, why: String) {
        self.busy = false;
        self.secret.clear();
        self.error = Some(why);
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let cursor = |on: bool| if on { "▏" } else { "" };
        let mut lines = vec![
            Line::from(""),
            Line::from(format!(" 操作员：{}{}", self.name, cursor(!self.on_secret))),
            Line::from(format!(" 密  码：{}{}", "•".repeat(self.secret.chars().count()), cursor(self.on_secret))),
            Line::from(""),
        ];
        if self.busy {
            lines.push(Line::from(" 正在验证…").fg(Color::Yellow));
        } else if let Some(e) = &self.error {
            lines.push(Line::from(format!(" {e}")).fg(Color::Red));
        } else {
            lines.push(Line::from(" Tab 切换，Enter 登录").fg(Color::DarkGray));
        }
        let area = centered(area, 44, 8);
        frame.render_widget(Clear, area);
        frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(" 操作员登录 ")), area);
    }
}
