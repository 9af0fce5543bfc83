//! A provisional year, for when the State Council's notice for a year has not been imported yet: the
//! statutory holidays alone, as 《全国年节及纪念日放假办法》 (as amended in 2024, in force from 2025) fixes
//! them — 元旦 1 January; 春节 除夕 and 初一 to 初三; 清明 on the 清明 solar term; 劳动节 1–2 May; 端午 on
//! the 5th of the 5th lunar month; 中秋 on the 15th of the 8th; 国庆 1–3 October — with the law's rule
//! that a holiday falling on a Saturday or Sunday is given back on the next working day. These are the
//! fewest days off the law allows, so a provisional deadline errs early; the adjusted working weekends
//! (调休) are unknown until the notice, so it can still move either way when the notice comes.
//! Lunar dates and solar terms come from `tyme4rs` (the 寿星天文历 algorithms).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use tyme4rs::tyme::lunar::LunarDay;
use tyme4rs::tyme::solar::{SolarDay, SolarTerm};

use super::calendar::is_weekend;

/// A statutory holiday and its dates in one Gregorian year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatutoryHoliday {
    pub name: &'static str,
    pub days: Vec<NaiveDate>,
}

fn solar(day: SolarDay) -> NaiveDate {
    let date = NaiveDate::from_ymd_opt(day.get_year() as i32, day.get_month() as u32, day.get_day() as u32);
    date.expect("tyme4rs gives real Gregorian dates")
}

fn lunar(year: i32, month: isize, day: usize) -> NaiveDate {
    solar(LunarDay::from_ymd(year as isize, month, day).get_solar_day())
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a fixed date of the law")
}

/// The statutory holidays of `year` under the law in force from 2025.
pub fn statutory_holidays(year: i32) -> Vec<StatutoryHoliday> {
    let new_year = lunar(year, 1, 1);
    let spring = vec![new_year.pred_opt().expect("除夕 is a date"), new_year, lunar(year, 1, 2), lunar(year, 1, 3)];
    vec![
        StatutoryHoliday { name: "元旦", days: vec![ymd(year, 1, 1)] },
        StatutoryHoliday { name: "春节", days: spring },
        StatutoryHoliday {
            name: "清明节",
            days: vec![solar(SolarTerm::from_name(year as isize, "清明").get_solar_day())],
        },
        StatutoryHoliday { name: "劳动节", days: vec![ymd(year, 5, 1), ymd(year, 5, 2)] },
        StatutoryHoliday { name: "端午节", days: vec![lunar(year, 5, 5)] },
        StatutoryHoliday { name: "中秋节", days: vec![lunar(year, 8, 15)] },
        StatutoryHoliday { name: "国庆节", days: vec![ymd(year, 10, 1), ymd(year, 10, 2), ymd(year, 10, 3)] },
    ]
}

/// The days off of a provisional `year`: every statutory day, and for each that falls on a weekend the
/// next weekday that is not already off (given back, 补休). Date → the holiday's name.
pub fn provisional_days_off(year: i32) -> BTreeMap<NaiveDate, &'static str> {
    let holidays = statutory_holidays(year);
    let mut off: BTreeMap<NaiveDate, &'static str> = BTreeMap::new();
    for h in &holidays {
        for d in &h.days {
            off.insert(*d, h.name);
        }
    }
    for h in &holidays {
        for d in h.days.iter().filter(|d| is_weekend(**d)) {
            let mut candidate = d.succ_opt().expect("a date follows");
            while is_weekend(candidate) || off.contains_key(&candidate) {
                candidate = candidate.succ_opt().expect("a date follows");
            }
            off.insert(candidate, h.name);
        }
    }
    off.retain(|d, _| d.year() == year);
    off
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn first_day(year: i32, name: &str) -> NaiveDate {
        statutory_holidays(year).into_iter().find(|h| h.name == name).unwrap().days[0]
    }

    #[test]
    fn lunar_holidays_and_qingming_fall_on_their_known_dates_2024_to_2030() {
        // (year, 除夕, 清明, 端午, 中秋), from the State Council notices 2024–2026 and published almanacs.
        let known = [
            (2024, "2024-02-09", "2024-04-04", "2024-06-10", "2024-09-17"),
            (2025, "2025-01-28", "2025-04-04", "2025-05-31", "2025-10-06"),
            (2026, "2026-02-16", "2026-04-05", "2026-06-19", "2026-09-25"),
            (2027, "2027-02-05", "2027-04-05", "2027-06-09", "2027-09-15"),
            (2028, "2028-01-25", "2028-04-04", "2028-05-28", "2028-10-03"),
            (2029, "2029-02-12", "2029-04-04", "2029-06-16", "2029-09-22"),
            (2030, "2030-02-02", "2030-04-05", "2030-06-05", "2030-09-12"),
        ];
        for (year, eve, qingming, dragon, moon) in known {
            assert_eq!(first_day(year, "春节"), d(eve), "{year} 除夕");
            assert_eq!(first_day(year, "清明节"), d(qingming), "{year} 清明");
            assert_eq!(first_day(year, "端午节"), d(dragon), "{year} 端午");
            assert_eq!(first_day(year, "中秋节"), d(moon), "{year} 中秋");
        }
    }

    #[test]
    fn every_statutory_day_is_off_in_the_official_2025_and_2026_calendars() {
        for (year, file) in [
            (2025, include_str!("calendars/holidays-cn-2025.json")),
            (2026, include_str!("calendars/holidays-cn-2026.json")),
        ] {
            let json: serde_json::Value = serde_json::from_str(file).unwrap();
            let official_off: Vec<NaiveDate> = json["days"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|day| day["off"] == true)
                .map(|day| d(day["date"].as_str().unwrap()))
                .collect();
            for h in statutory_holidays(year) {
                for day in h.days {
                    assert!(official_off.contains(&day), "{year} {} {day} is off in the notice", h.name);
                }
            }
        }
    }

    #[test]
    fn a_statutory_day_on_a_weekend_is_given_back_on_the_next_free_weekday() {
        let off = provisional_days_off(2027);
        // 2027: 元旦 Fri 1 Jan; 春节 除夕 Fri 5 Feb, 初一 Sat 6, 初二 Sun 7 (given back Tue 9 and Wed 10: Mon 8 is
        // 初三), 清明 Mon 5 Apr, 劳动节 Sat 1 and Sun 2 May (given back Mon 3 and Tue 4), 端午 Wed 9 Jun,
        // 中秋 Wed 15 Sep, 国庆 Fri 1, Sat 2, Sun 3 Oct (given back Mon 4 and Tue 5).
        let expected = [
            "2027-01-01",
            "2027-02-05",
            "2027-02-06",
            "2027-02-07",
            "2027-02-08",
            "2027-02-09",
            "2027-02-10",
            "2027-04-05",
            "2027-05-01",
            "2027-05-02",
            "2027-05-03",
            "2027-05-04",
            "2027-06-09",
            "2027-09-15",
            "2027-10-01",
            "2027-10-02",
            "2027-10-03",
            "2027-10-04",
            "2027-10-05",
        ];
        assert_eq!(off.keys().map(|d| d.to_string()).collect::<Vec<_>>(), expected);
        assert_eq!(off[&d("2027-02-09")], "春节");
        assert_eq!(off[&d("2027-10-05")], "国庆节");
    }
}
