//! The State Council's yearly holiday notice (国务院办公厅关于20XX年部分节假日安排的通知), read as it is
//! published: its title gives the year, and each item (`二、春节：2月15日（农历腊月二十八、周日）至23日
//! （农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。`) gives a holiday's days off
//! and its adjusted working days (调休上班). Every weekday and day count the text names is checked
//! against the real calendar, and so is the notice's own arithmetic: the weekdays off in a break are
//! its statutory days (a statutory day on a weekend is given back on a weekday) plus one for each
//! weekend day worked. Anything that does not fit is refused, naming the line. Where a notice departs
//! from the principles the 2025 notice states (they hold "except in particular cases"), it is a
//! warning, not a refusal. The result becomes a `holidays-cn-YYYY.json` file in the shipped format.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;

use super::calendar::is_weekend;
use super::due::weekday_zh;

/// What the calendar files say about their `off` field (kept word for word with the shipped files).
const SEMANTICS: &str = "Dates not listed follow the default week: Mon-Fri working, Sat-Sun rest. off=true: rest day inside a holiday period (may be a weekend day inside the period). off=false: adjusted working day (调休上班), always a Saturday or Sunday.";

/// The holidays a notice names, in the order of the law.
const HOLIDAYS: [&str; 7] = ["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"];

/// From 2025 the amended 《全国年节及纪念日放假办法》 (国务院令第795号) applies: 13 statutory days, and the
/// principles of the 2025 notice.
const AMENDED_LAW_FROM: i32 = 2025;

/// Statutory days off of a holiday under the law in force in `year`.
fn statutory_days(name: &str, year: i32) -> u32 {
    let amended = year >= AMENDED_LAW_FROM;
    match name {
        "春节" if amended => 4,
        "春节" => 3,
        "劳动节" if amended => 2,
        "国庆节" => 3,
        _ => 1,
    }
}

/// A notice as read: its year, its items, and what it means day by day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub year: i32,
    pub title: String,
    /// The date under the signature (国务院办公厅 / 2025年11月4日), when the text has it.
    pub issued: Option<NaiveDate>,
    pub holidays: Vec<NoticeHoliday>,
    /// Departures from the stated principles, and days named outside the notice's year.
    pub warnings: Vec<String>,
}

/// One item of the notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeHoliday {
    /// As the notice names it: `春节`, or `国庆节、中秋节` for a merged break.
    pub name: String,
    /// The item's line in the text (1-based).
    pub line: usize,
    /// The item without its numbering, as the calendar file's `notice.items` keeps it.
    pub text: String,
    /// Days off, in order (weekend days inside the break included).
    pub off: Vec<NaiveDate>,
    /// Adjusted working days (a Saturday or Sunday each).
    pub work: Vec<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    #[error("找不到通知标题「国务院办公厅关于20XX年部分节假日安排的通知」(no notice title with a year)")]
    NoTitle,
    #[error("通知中没有节假日条目，如「一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。」(no holiday items)")]
    NoItems,
    #[error("第 {line} 行：{why}\n    {text}")]
    Line { line: usize, text: String, why: String },
}

/// A day the calendar file lists: off inside a break, or a weekend day worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ListedDay<'a> {
    pub date: NaiveDate,
    pub name: &'a str,
    pub off: bool,
}

/// A day whose meaning an import changes: working or not, before and after (`None`: as the default
/// week says, or no calendar for the year before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayChange {
    pub date: NaiveDate,
    pub working_before: Option<bool>,
    pub working_after: bool,
}

impl Notice {
    /// Reads a notice's text. Lines other than the title, the items and the date under the signature
    /// (the addressees, the preamble, the closing request) are passed over.
    pub fn parse(text: &str) -> Result<Notice, NoticeError> {
        let text = text.trim_start_matches('\u{feff}');
        let year = title_year(text).ok_or(NoticeError::NoTitle)?;
        let mut holidays: Vec<NoticeHoliday> = Vec::new();
        let mut seen: BTreeMap<NaiveDate, usize> = BTreeMap::new();
        let mut warnings = Vec::new();
        let mut issued = None;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim();
            if let Some(date) = signature_date(trimmed) {
                issued = Some(date);
                continue;
            }
            let Some((name, body)) = item_parts(trimmed).map_err(|why| refuse(line, trimmed, why))? else {
                continue;
            };
            let refuse_here = |why: String| refuse(line, trimmed, why);
            let mut holiday = read_item(year, &name, body).map_err(refuse_here)?;
            holiday.line = line;
            for date in holiday.off.iter().chain(&holiday.work) {
                if let Some(first) = seen.insert(*date, line) {
                    return Err(refuse(line, trimmed, format!("{} 已在第 {first} 行出现", zh_date(*date))));
                }
            }
            holidays.push(holiday);
        }
        if holidays.is_empty() {
            return Err(NoticeError::NoItems);
        }
        for h in &holidays {
            for date in h.off.iter().chain(&h.work).filter(|d| d.year() != year) {
                warnings.push(format!(
                    "{}：{} 不在 {year} 年，不写入本年日历{}",
                    h.name,
                    zh_date_full(*date),
                    if is_weekend(*date) {
                        "（本是周末，无需补录）"
                    } else {
                        "；请在该年的日历中核对"
                    }
                ));
            }
        }
        let mut notice = Notice { year, title: title_of(year), issued, holidays, warnings };
        if year >= AMENDED_LAW_FROM {
            notice.warnings.extend(notice.principle_warnings());
        }
        Ok(notice)
    }

    /// The days the year's calendar file lists, by date.
    pub fn listed_days(&self) -> Vec<ListedDay<'_>> {
        let mut days: Vec<ListedDay> = self
            .holidays
            .iter()
            .flat_map(|h| {
                let off = h.off.iter().map(move |d| ListedDay { date: *d, name: &h.name, off: true });
                off.chain(h.work.iter().map(move |d| ListedDay { date: *d, name: &h.name, off: false }))
            })
            .filter(|d| d.date.year() == self.year)
            .collect();
        days.sort_by_key(|d| d.date);
        days
    }

    /// The days this notice gives a different meaning than `before` (the year's current exceptions:
    /// date → working), by date. With no calendar for the year before, every listed day is a change.
    pub fn changes_from(&self, before: Option<&BTreeMap<NaiveDate, bool>>) -> Vec<DayChange> {
        let after: BTreeMap<NaiveDate, bool> = self.listed_days().iter().map(|d| (d.date, !d.off)).collect();
        let Some(before) = before else {
            return after
                .iter()
                .map(|(d, w)| DayChange { date: *d, working_before: None, working_after: *w })
                .collect();
        };
        let default = |d: &NaiveDate| !is_weekend(*d);
        let mut dates: Vec<&NaiveDate> = before.keys().chain(after.keys()).collect();
        dates.sort();
        dates.dedup();
        dates
            .into_iter()
            .filter_map(|d| {
                let was = before.get(d).copied().unwrap_or(default(d));
                let now = after.get(d).copied().unwrap_or(default(d));
                (was != now).then_some(DayChange { date: *d, working_before: Some(was), working_after: now })
            })
            .collect()
    }

    /// The year's `holidays-cn-YYYY.json`, in the shipped files' layout; `source` says where the text came from.
    pub fn calendar_file(&self, source: &str) -> String {
        let header = serde_json::json!({
            "year": self.year,
            "source": source,
            "notice": {
                "title": self.title,
                "doc_no": null,
                "issued": self.issued.map(|d| d.to_string()),
                "urls": [],
                "items": self.holidays.iter().map(|h| h.text.as_str()).collect::<Vec<_>>(),
            },
            "timezone": "Asia/Shanghai",
            "semantics": SEMANTICS,
        });
        let mut out = Vec::new();
        let mut ser =
            serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b" "));
        header.serialize(&mut ser).expect("a JSON value serialises");
        let header = String::from_utf8(out).expect("serde_json writes UTF-8");
        let days: Vec<String> = self
            .listed_days()
            .iter()
            .map(|d| {
                let name = serde_json::to_string(d.name).expect("a string serialises");
                format!("  {{\"date\": \"{}\", \"name\": {name}, \"off\": {}}}", d.date, d.off)
            })
            .collect();
        let body = header.strip_suffix("\n}").unwrap_or(&header);
        format!("{body},\n \"days\": [\n{}\n ]\n}}\n", days.join(",\n"))
    }

    /// Where the notice departs from the principles the 2025 notice states: the length of each break,
    /// and no more than six working days in a row next to one.
    fn principle_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for h in &self.holidays {
            let days = h.off.len();
            let names: Vec<&str> = h.name.split('、').collect();
            let expected: &[usize] = match names.as_slice() {
                ["春节"] => &[8],
                ["国庆节"] => &[7],
                ["劳动节"] => &[5],
                n if n.contains(&"国庆节") && n.contains(&"中秋节") => &[8],
                // 元旦, 清明, 端午, 中秋: three days, or only the day itself when it is a Wednesday.
                _ if days == 1 && h.off[0].weekday() == Weekday::Wed => &[1],
                _ => &[3],
            };
            if !expected.contains(&days) {
                out.push(format!(
                    "{}放假 {days} 天：2025 年通知所述原则为 {} 天（特殊情形除外）",
                    h.name,
                    expected.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(" 或 ")
                ));
            }
            let (Some(first), Some(last)) = (h.off.first(), h.off.last()) else { continue };
            for (side, run) in [("前", self.working_run(*first, -1)), ("后", self.working_run(*last, 1))] {
                if run.len() > 6 {
                    let (a, b) =
                        (run.iter().min().copied().unwrap_or(*first), run.iter().max().copied().unwrap_or(*last));
                    out.push(format!(
                        "{}{side}连续工作 {} 天（{}至{}）：原则上不超过 6 天（特殊情形除外）",
                        h.name,
                        run.len(),
                        zh_date(a),
                        zh_date(b)
                    ));
                }
            }
        }
        out
    }

    /// The working days in a row next to `from` (before it when `step` is -1, after it when 1).
    fn working_run(&self, from: NaiveDate, step: i64) -> Vec<NaiveDate> {
        let listed: BTreeMap<NaiveDate, bool> = self.listed_days().iter().map(|d| (d.date, !d.off)).collect();
        let working = |d: NaiveDate| listed.get(&d).copied().unwrap_or(!is_weekend(d));
        let mut run = Vec::new();
        let mut day = from + chrono::Duration::days(step);
        while working(day) && run.len() < 31 {
            run.push(day);
            day += chrono::Duration::days(step);
        }
        run
    }
}

fn refuse(line: usize, text: &str, why: String) -> NoticeError {
    NoticeError::Line { line, text: text.to_string(), why }
}

fn title_of(year: i32) -> String {
    format!("国务院办公厅关于{year}年部分节假日安排的通知")
}

/// The year of `…关于2026年部分节假日安排的通知`.
fn title_year(text: &str) -> Option<i32> {
    let at = text.find("年部分节假日安排的通知")?;
    let before: Vec<char> = text[..at].chars().collect();
    let digits: String = before.iter().rev().take(4).rev().collect();
    (digits.len() == 4 && digits.chars().all(|c| c.is_ascii_digit())).then(|| digits.parse().ok()).flatten()
}

/// A line that is only a date (`2025年11月4日`): the date under the signature.
fn signature_date(line: &str) -> Option<NaiveDate> {
    let (y, rest) = line.split_once('年')?;
    let (m, rest) = rest.split_once('月')?;
    let d = rest.strip_suffix('日')?;
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// An item line's holiday name and body, without its numbering (`二、`). `None` for other lines; an
/// error for a numbered line that names no holiday of the law.
fn item_parts(line: &str) -> Result<Option<(String, &str)>, String> {
    let unnumbered = match line.split_once('、') {
        Some((n, rest)) if !n.is_empty() && n.chars().all(|c| "一二三四五六七八九十".contains(c)) => {
            Some(rest)
        }
        _ => None,
    };
    let candidate = unnumbered.unwrap_or(line);
    let Some((name, body)) = candidate.split_once('：').or_else(|| candidate.split_once(':')) else {
        return match unnumbered {
            Some(_) => Err("条目应为「节日：日期安排」".to_string()),
            None => Ok(None),
        };
    };
    let name = name.trim();
    let known = name.split('、').all(|n| HOLIDAYS.contains(&n));
    match (known, unnumbered.is_some()) {
        (true, _) => Ok(Some((name.to_string(), body.trim()))),
        (false, true) => Err(format!("「{name}」不是法定节日（{}）", HOLIDAYS.join("、"))),
        (false, false) => Ok(None),
    }
}

/// A date as the text wrote it, with what the parentheses after it say.
#[derive(Debug, Clone)]
struct Mention {
    year: Option<i32>,
    month: Option<u32>,
    day: u32,
    note: Option<String>,
    /// Byte range in the sentence, to read what lies between two mentions.
    start: usize,
    end: usize,
}

/// Every `[YYYY年][M月]D日[（…）]` in a sentence.
fn mentions(sentence: &str) -> Result<Vec<Mention>, String> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = sentence.char_indices().collect();
    let mut i = 0;
    let (mut year, mut month, mut start) = (None, None, None);
    while i < chars.len() {
        let (pos, c) = chars[i];
        if !c.is_ascii_digit() {
            if c != '年' && c != '月' {
                year = None;
                month = None;
                start = None;
            }
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j].1.is_ascii_digit() {
            j += 1;
        }
        let number: u32 = sentence[pos..chars.get(j).map_or(sentence.len(), |c| c.0)]
            .parse()
            .map_err(|_| format!("数字过大：{}", &sentence[pos..]))?;
        let unit = chars.get(j).map(|c| c.1);
        start.get_or_insert(pos);
        match unit {
            Some('年') => year = Some(number as i32),
            Some('月') => month = Some(number),
            Some('日') => {
                let mut end = chars.get(j + 1).map_or(sentence.len(), |c| c.0);
                let mut note = None;
                if let Some((open, '（' | '(')) = chars.get(j + 1).copied() {
                    let close = sentence[open..]
                        .find(['）', ')'])
                        .map(|k| open + k)
                        .ok_or_else(|| format!("括号未闭合：{}", &sentence[open..]))?;
                    let inner_start = open + sentence[open..].chars().next().map_or(1, char::len_utf8);
                    note = Some(sentence[inner_start..close].to_string());
                    end = close + sentence[close..].chars().next().map_or(1, char::len_utf8);
                    while j + 1 < chars.len() && chars[j + 1].0 < end {
                        j += 1;
                    }
                }
                out.push(Mention { year, month, day: number, note, start: start.unwrap_or(pos), end });
                year = None;
                month = None;
                start = None;
            }
            _ => {
                // A count (`共3天`, `放假1天`), not a date.
                year = None;
                month = None;
                start = None;
            }
        }
        i = j + 1;
    }
    Ok(out)
}

/// The weekday a parenthesis names (`周四`, `星期日`, `农历除夕、周二`).
fn named_weekday(note: &str) -> Option<Weekday> {
    let after = note
        .find('周')
        .map(|i| &note[i + '周'.len_utf8()..])
        .or_else(|| note.find("星期").map(|i| &note[i + "星期".len()..]))?;
    match after.chars().next()? {
        '一' => Some(Weekday::Mon),
        '二' => Some(Weekday::Tue),
        '三' => Some(Weekday::Wed),
        '四' => Some(Weekday::Thu),
        '五' => Some(Weekday::Fri),
        '六' => Some(Weekday::Sat),
        '日' | '天' => Some(Weekday::Sun),
        _ => None,
    }
}

/// `2月14日`.
pub fn zh_date(d: NaiveDate) -> String {
    format!("{}月{}日", d.month(), d.day())
}

fn zh_date_full(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// A mention as a date: its own year and month, else those of the mention before it (`至3日`), else
/// the notice's year. The weekday in its parenthesis, if any, must be the date's.
fn resolve(m: &Mention, year: i32, before: Option<NaiveDate>) -> Result<NaiveDate, String> {
    let y = m.year.or(before.map(|d| d.year())).unwrap_or(year);
    let month = match (m.month, before) {
        (Some(month), _) => month,
        (None, Some(d)) => d.month(),
        (None, None) => return Err(format!("{}日 没有写月份", m.day)),
    };
    let date = NaiveDate::from_ymd_opt(y, month, m.day).ok_or_else(|| format!("{y}年{month}月{}日 不存在", m.day))?;
    if let Some(named) = m.note.as_deref().and_then(named_weekday) {
        if named != date.weekday() {
            return Err(format!("{} 是{}，通知写的是{}", zh_date(date), weekday_zh(date.weekday()), weekday_zh(named)));
        }
    }
    Ok(date)
}

/// The number in `共N天`.
fn stated_total(sentence: &str) -> Option<usize> {
    let after = &sentence[sentence.find('共')? + '共'.len_utf8()..];
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    after[digits.len()..].starts_with('天').then(|| digits.parse().ok()).flatten()
}

/// One item's body: its sentences of days off (`放假`) and of days worked (`上班`); a sentence of
/// encouragement (`鼓励…`) is advice, not a rule; any other sentence that names a date is refused.
fn read_item(year: i32, name: &str, body: &str) -> Result<NoticeHoliday, String> {
    let mut off: Vec<NaiveDate> = Vec::new();
    let mut work: Vec<NaiveDate> = Vec::new();
    for sentence in body.split('。').map(str::trim).filter(|s| !s.is_empty()) {
        let found = mentions(sentence)?;
        if sentence.starts_with("鼓励") {
            continue;
        }
        if sentence.contains("放假") {
            if !off.is_empty() {
                return Err("一个条目中有两处放假安排".into());
            }
            off = off_days(year, sentence, &found)?;
        } else if sentence.ends_with("上班") {
            if found.is_empty() {
                return Err("上班的日期没有写出".into());
            }
            for (k, m) in found.iter().enumerate() {
                if k > 0 && sentence[found[k - 1].end..m.start].trim() != "、" {
                    return Err(format!("上班日期之间应以「、」分隔：{}", &sentence[found[k - 1].end..m.start]));
                }
                let date = resolve(m, year, None)?;
                if !is_weekend(date) {
                    return Err(format!(
                        "{} 是{}，调休上班的应是周六或周日",
                        zh_date(date),
                        weekday_zh(date.weekday())
                    ));
                }
                work.push(date);
            }
        } else if !found.is_empty() {
            return Err(format!("无法理解这一句：{sentence}"));
        }
    }
    if off.is_empty() {
        return Err("没有找到放假日期".into());
    }
    if let Some(d) = work.iter().find(|d| off.contains(d)) {
        return Err(format!("{} 既放假又上班", zh_date(*d)));
    }
    // The notice's own arithmetic: weekdays off = statutory days (given back on a weekday when they fall
    // on a weekend) + weekend days worked.
    let weekdays_off = off.iter().filter(|d| !is_weekend(**d)).count();
    let statutory: u32 = name.split('、').map(|n| statutory_days(n, year)).sum();
    if weekdays_off != statutory as usize + work.len() {
        return Err(format!(
            "放假的工作日 {weekdays_off} 天，应为法定假日 {statutory} 天加调休上班 {} 天：缺少或多出调休上班的日期，或日期有误",
            work.len()
        ));
    }
    Ok(NoticeHoliday { name: name.to_string(), line: 0, text: format!("{name}：{body}"), off, work })
}

/// The days off a `放假` sentence names: one date, or a range `A至B`; `共N天` must agree.
fn off_days(year: i32, sentence: &str, found: &[Mention]) -> Result<Vec<NaiveDate>, String> {
    let days = match found {
        [one] => vec![resolve(one, year, None)?],
        [from, to] if sentence[from.end..to.start].trim() == "至" => {
            let first = resolve(from, year, None)?;
            let last = resolve(to, year, Some(first))?;
            if last < first {
                return Err(format!("{} 早于 {}", zh_date(last), zh_date(first)));
            }
            first.iter_days().take_while(|d| *d <= last).collect()
        }
        [] => return Err("放假的日期没有写出".into()),
        _ => return Err("放假应写作一个日期，或「某日至某日」".into()),
    };
    if let Some(total) = stated_total(sentence) {
        if total != days.len() {
            return Err(format!("写的是共{total}天，日期范围是 {} 天", days.len()));
        }
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped calendars' notices, written out as the State Council publishes them.
    fn published(year: i32) -> (String, serde_json::Value) {
        let file = match year {
            2024 => include_str!("calendars/holidays-cn-2024.json"),
            2025 => include_str!("calendars/holidays-cn-2025.json"),
            _ => include_str!("calendars/holidays-cn-2026.json"),
        };
        let json: serde_json::Value = serde_json::from_str(file).unwrap();
        let numbers = ["一", "二", "三", "四", "五", "六", "七"];
        let items: Vec<String> = json["notice"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .zip(numbers)
            .map(|(item, n)| format!("{n}、{}", item.as_str().unwrap()))
            .collect();
        let issued: NaiveDate = json["notice"]["issued"].as_str().unwrap().parse().unwrap();
        let text = format!(
            "{}\n\n各省、自治区、直辖市人民政府，国务院各部委、各直属机构：\n    经国务院批准，现将{year}年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。\n{}\n    节假日期间，各地区、各部门要妥善安排好值班和安全、保卫、疫情防控等工作。\n\n国务院办公厅\n{}年{}月{}日\n",
            title_of(year),
            items.join("\n"),
            issued.year(),
            issued.month(),
            issued.day()
        );
        (text, json)
    }

    #[test]
    fn the_2024_to_2026_notices_reproduce_the_shipped_calendars() {
        for year in [2024, 2025, 2026] {
            let (text, json) = published(year);
            let notice = Notice::parse(&text).unwrap_or_else(|e| panic!("{year}: {e}"));
            assert_eq!(notice.year, year);
            assert_eq!(notice.issued.map(|d| d.to_string()).as_deref(), json["notice"]["issued"].as_str());
            let written: serde_json::Value = serde_json::from_str(&notice.calendar_file("test")).unwrap();
            assert_eq!(written["days"], json["days"], "{year}: days");
            assert_eq!(written["notice"]["items"], json["notice"]["items"], "{year}: items");
            assert_eq!(written["notice"]["title"], json["notice"]["title"]);
            assert_eq!(written["semantics"], json["semantics"]);
            // The written file loads as a calendar and means the same days.
            let loaded = super::super::calendar::HolidayYear::parse(
                "written",
                &notice.calendar_file("test"),
                Some(year),
                super::super::CalendarSource::BuiltIn,
            );
            assert!(loaded.is_ok(), "{year}: {:?}", loaded.err());
        }
    }

    #[test]
    fn only_2026s_nine_day_spring_festival_departs_from_the_principles() {
        assert_eq!(Notice::parse(&published(2024).0).unwrap().warnings, Vec::<String>::new());
        assert_eq!(Notice::parse(&published(2025).0).unwrap().warnings, Vec::<String>::new());
        assert_eq!(
            Notice::parse(&published(2026).0).unwrap().warnings,
            vec!["春节放假 9 天：2025 年通知所述原则为 8 天（特殊情形除外）".to_string()]
        );
    }

    fn refusal(text: &str) -> (usize, String) {
        match Notice::parse(text) {
            Err(NoticeError::Line { line, why, .. }) => (line, why),
            other => panic!("expected a refused line, got {other:?}"),
        }
    }

    fn doctored(from: &str, to: &str) -> String {
        let (text, _) = published(2026);
        assert!(text.contains(from), "{from}");
        text.replacen(from, to, 1)
    }

    fn line_of(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).unwrap() + 1
    }

    #[test]
    fn a_wrong_weekday_is_refused_naming_the_line() {
        let text = doctored("1月1日（周四）", "1月1日（周五）");
        let (line, why) = refusal(&text);
        assert_eq!(line, line_of(&text, "元旦："));
        assert_eq!(why, "1月1日 是周四，通知写的是周五");
    }

    #[test]
    fn a_missing_working_day_is_refused() {
        let text = doctored("9月20日（周日）、10月10日（周六）上班", "10月10日（周六）上班");
        let (line, why) = refusal(&text);
        assert_eq!(line, line_of(&text, "国庆节："));
        assert!(why.contains("放假的工作日 5 天，应为法定假日 3 天加调休上班 1 天"), "{why}");
        // And a break with no working day at all where one is needed.
        let text = doctored("1月4日（周日）上班。", "");
        assert!(
            refusal(&text).1.starts_with("放假的工作日 2 天，应为法定假日 1 天加调休上班 0 天"),
            "{:?}",
            refusal(&text)
        );
    }

    #[test]
    fn a_date_that_does_not_exist_is_refused() {
        let text = doctored("2月28日（周六）上班", "2月30日（周六）上班");
        assert_eq!(refusal(&text).1, "2026年2月30日 不存在");
    }

    #[test]
    fn a_count_that_disagrees_with_the_range_is_refused() {
        let text = doctored("共9天", "共8天");
        assert_eq!(refusal(&text).1, "写的是共8天，日期范围是 9 天");
    }

    #[test]
    fn a_working_weekday_a_day_named_twice_and_an_unknown_holiday_are_refused() {
        let text = doctored("5月9日（周六）上班", "5月8日（周五）上班");
        assert_eq!(refusal(&text).1, "5月8日 是周五，调休上班的应是周六或周日");
        let text = doctored("2月14日（周六）、2月28日（周六）上班", "2月14日（周六）、2月14日（周六）上班");
        let (line, why) = refusal(&text);
        assert_eq!(why, format!("2月14日 已在第 {line} 行出现"));
        let text = doctored("三、清明节：", "三、植树节：");
        assert!(refusal(&text).1.starts_with("「植树节」不是法定节日"));
        assert_eq!(Notice::parse("没有标题"), Err(NoticeError::NoTitle));
        assert_eq!(Notice::parse(&title_of(2027)), Err(NoticeError::NoItems));
    }

    #[test]
    fn a_break_that_breaks_the_principles_is_a_warning_not_a_refusal() {
        // National Day's two working weekend days both after it: nine working days in a row.
        let text = doctored("9月20日（周日）、10月10日（周六）上班", "10月10日（周六）、10月11日（周日）上班");
        let notice = Notice::parse(&text).expect("a warning, not a refusal");
        assert_eq!(
            notice.warnings,
            vec![
                "春节放假 9 天：2025 年通知所述原则为 8 天（特殊情形除外）".to_string(),
                "国庆节后连续工作 9 天（10月8日至10月16日）：原则上不超过 6 天（特殊情形除外）".to_string(),
            ]
        );
    }

    #[test]
    fn an_amendment_shows_the_days_it_changes() {
        let shipped = Notice::parse(&published(2026).0).unwrap();
        let before: BTreeMap<NaiveDate, bool> = shipped.listed_days().iter().map(|d| (d.date, !d.off)).collect();
        assert_eq!(shipped.changes_from(Some(&before)), vec![]);
        // Labour Day's working weekend day moves from the Saturday after to the Sunday before.
        let text = published(2026).0.replacen("5月9日（周六）上班", "4月26日（周日）上班", 1);
        let amended = Notice::parse(&text).expect("a consistent amendment");
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        assert_eq!(
            amended.changes_from(Some(&before)),
            vec![
                DayChange { date: d(4, 26), working_before: Some(false), working_after: true },
                DayChange { date: d(5, 9), working_before: Some(true), working_after: false },
            ]
        );
        assert_eq!(amended.changes_from(None).len(), amended.listed_days().len());
    }

    #[test]
    fn a_break_that_starts_in_the_year_before_is_read_and_its_days_there_are_noted() {
        // The 2023 notice (国办发明电〔2022〕16号), its first two items as published: 调休 there also
        // names a day given back, and 元旦 starts on 31 December 2022.
        let text = format!(
            "{}\n一、元旦：2022年12月31日至2023年1月2日放假调休，共3天。\n二、春节：1月21日至27日放假调休，共7天。1月28日（星期六）、1月29日（星期日）上班。\n",
            title_of(2023)
        );
        let notice = Notice::parse(&text).expect("the 2023 notice");
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(notice.holidays[0].off, vec![d(2022, 12, 31), d(2023, 1, 1), d(2023, 1, 2)]);
        assert_eq!(notice.holidays[1].work, vec![d(2023, 1, 28), d(2023, 1, 29)]);
        assert_eq!(
            notice.listed_days().first().map(|l| l.date),
            Some(d(2023, 1, 1)),
            "2022's day is not in 2023's file"
        );
        assert_eq!(
            notice.warnings,
            vec!["元旦：2022年12月31日 不在 2023 年，不写入本年日历（本是周末，无需补录）".to_string()]
        );
    }
}
