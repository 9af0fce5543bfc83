//! `keydesk calendar`: `check` (the loaded years, and whether next year's notice is due) and `import`
//! (the State Council's notice read into next year's calendar file: shown first, written with `--write`).

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::config::Config;
use super::{exit, fail, print_json, Failure};
use crate::clock::Clock;
use crate::desk::widgets::pad;
use crate::ops::sla::MovedDeadline;
use crate::sla::calendar::{national_years, HolidayYear};
use crate::sla::due::weekday_zh;
use crate::sla::notice::{zh_date, DayChange, Notice};
use crate::sla::CalendarSource;
use crate::sla::ClockRules;
use crate::store::Actor;

pub fn check(config: &Config, json: bool, clock: &Clock) -> Result<u8, Failure> {
    let calendar = crate::sla::Calendar::load(&config.sla).map_err(|e| fail(e.to_string()))?;
    let today = clock.now_local().date_naive();
    let check = calendar.check(&config.sla, today);
    if json {
        print_json(&check)?;
    } else {
        print!("{check}");
    }
    Ok(if check.warnings.is_empty() { exit::OK } else { exit::CALENDAR_WARNING })
}

/// What `calendar import` found, for `--json`.
#[derive(Serialize)]
struct ImportReport<'a> {
    notice: &'a Notice,
    /// Where the year's calendar comes from today (none: no calendar for the year yet).
    current: Option<&'a CalendarSource>,
    changes: &'a [DayChange],
    /// The file written (with `--write`).
    written: Option<&'a Path>,
    /// Open clocks whose deadline the written file moved (recorded on each order).
    moved: &'a [MovedDeadline],
}

pub async fn import(
    config: &Config,
    file: &Path,
    write: bool,
    json: bool,
    actor: Actor,
    clock: &Clock,
) -> Result<u8, Failure> {
    let bytes = std::fs::read(file).map_err(|e| fail(format!("无法读取 {}：{e}", file.display())))?;
    let text = String::from_utf8(bytes.clone())
        .map_err(|_| fail(format!("{} 不是 UTF-8 文本：请把通知另存为 UTF-8", file.display())))?;
    let notice =
        Notice::parse(&text).map_err(|e| Failure { code: exit::REFUSED, message: format!("通知未导入：{e}") })?;
    let years = national_years(&config.sla).map_err(|e| fail(e.to_string()))?;
    let current: Option<&HolidayYear> = years.iter().rev().find(|y| y.year() == notice.year);
    let changes = notice.changes_from(current.map(HolidayYear::exceptions));
    let before = ClockRules::load(&config.sla).map_err(|e| fail(e.to_string()))?;
    let written = if write { Some(write_year(config, file, &bytes, &notice, clock)?) } else { None };
    let moved = match &written {
        Some(_) => record_moves(config, &before, &actor, clock).await,
        None => Vec::new(),
    };
    if json {
        print_json(&ImportReport {
            notice: &notice,
            current: current.map(HolidayYear::source),
            changes: &changes,
            written: written.as_deref(),
            moved: &moved,
        })?;
    } else {
        print_import(&notice, current, &changes, written.as_deref(), config.sla.calendar_dir.as_deref());
        print_moves(&moved, written.is_some());
    }
    Ok(if notice.warnings.is_empty() { exit::OK } else { exit::CALENDAR_WARNING })
}

/// The open clocks whose deadline the new calendar moved, each recorded on its order. The calendar is
/// written whatever happens here: a database that does not answer is said, not fatal.
async fn record_moves(config: &Config, before: &ClockRules, actor: &Actor, clock: &Clock) -> Vec<MovedDeadline> {
    let after = match ClockRules::load(&config.sla) {
        Ok(rules) => rules,
        Err(e) => {
            eprintln!("keydesk: 新日历无法载入，未重算时限：{e}");
            return Vec::new();
        }
    };
    let store = match super::open_store(config).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!("keydesk: 数据库不可用，未重算进行中的时限：{}", e.message);
            return Vec::new();
        }
    };
    match crate::ops::sla::record_calendar_change(store.as_ref(), before, &after, actor, clock).await {
        Ok(moved) => moved,
        Err(e) => {
            eprintln!("keydesk: 重算进行中的时限失败：{e}");
            Vec::new()
        }
    }
}

fn print_moves(moved: &[MovedDeadline], written: bool) {
    if !written {
        return;
    }
    if moved.is_empty() {
        println!("进行中的时限没有改变");
        return;
    }
    println!("进行中的时限有 {} 个改变（已记入各订单的时间线，看板上标为「时限已调」）：", moved.len());
    for m in moved {
        println!("  {}  {}", m.order_no, m.reason);
    }
}

/// Writes `holidays-cn-YYYY.json` into `sla.calendar_dir` (made if missing), through a temporary file
/// and a rename, after checking it loads as a calendar.
fn write_year(config: &Config, file: &Path, bytes: &[u8], notice: &Notice, clock: &Clock) -> Result<PathBuf, Failure> {
    let dir = config.sla.calendar_dir.as_deref().ok_or_else(|| {
        fail("没有配置日历目录：请在配置 [sla] calendar_dir 中指定（或 KEYDESK_SLA__CALENDAR_DIR），再加 --write")
    })?;
    let name = format!("holidays-cn-{}.json", notice.year);
    let source = format!(
        "{}, imported by keydesk calendar import from {} (sha256 {}) on {}",
        notice.title,
        file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned()),
        &hex::encode(Sha256::digest(bytes))[..16],
        clock.now_local().date_naive()
    );
    let body = notice.calendar_file(&source);
    HolidayYear::parse(&name, &body, Some(notice.year), CalendarSource::File(dir.join(&name)))
        .map_err(|e| fail(format!("生成的日历文件无法通过校验（请报告此问题）：{e}")))?;
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("无法创建日历目录 {}：{e}", dir.display())))?;
    let path = dir.join(&name);
    let partial = dir.join(format!(".{name}.partial"));
    std::fs::write(&partial, body)
        .and_then(|()| std::fs::rename(&partial, &path))
        .map_err(|e| fail(format!("无法写入 {}：{e}", path.display())))?;
    Ok(path)
}

fn day_text(d: NaiveDate) -> String {
    format!("{}（{}）", zh_date(d), weekday_zh(d.weekday()))
}

fn meaning(working: Option<bool>) -> &'static str {
    match working {
        Some(true) => "上班",
        Some(false) => "休息",
        None => "无日历",
    }
}

fn print_import(
    notice: &Notice,
    current: Option<&HolidayYear>,
    changes: &[DayChange],
    written: Option<&Path>,
    dir: Option<&Path>,
) {
    let issued = notice.issued.map(|d| format!("（{d} 发布）")).unwrap_or_default();
    println!("{}{issued}", notice.title);
    println!("  {} {} 天数  调休上班", pad("节日", 12), pad("放假", 34));
    for h in &notice.holidays {
        let off = match (h.off.first(), h.off.last()) {
            (Some(a), Some(b)) if a != b => format!("{} 至 {}", day_text(*a), day_text(*b)),
            (Some(a), _) => day_text(*a),
            _ => String::new(),
        };
        let work: Vec<String> = h.work.iter().map(|d| day_text(*d)).collect();
        let work = if work.is_empty() { "—".to_string() } else { work.join("、") };
        println!("  {} {} {:>4}  {work}", pad(&h.name, 12), pad(&off, 34), h.off.len());
    }
    for w in &notice.warnings {
        println!("警告：{w}");
    }
    match current {
        None => {
            println!("{} 年尚无正式日历（时限按暂定日历计算）：导入后新增 {} 个特殊日期", notice.year, changes.len())
        }
        Some(_) if changes.is_empty() => println!("与现有日历相同"),
        Some(year) => {
            println!("与现有日历（{}）相比，{} 天改变：", year.source(), changes.len());
            for c in changes {
                println!("  {}  {} → {}", day_text(c.date), meaning(c.working_before), meaning(Some(c.working_after)));
            }
        }
    }
    match (written, dir) {
        (Some(path), _) => println!("已写入 {}；重启工作台、worker 和会员端后生效", path.display()),
        (None, Some(dir)) => {
            println!("未写入：加 --write 写入 {}", dir.join(format!("holidays-cn-{}.json", notice.year)).display())
        }
        (None, None) => println!("未写入：先在配置 [sla] calendar_dir 指定日历目录，再加 --write"),
    }
}
