//! Synthetic orders for benchmarks (`keydesk fixtures generate --orders N --seed S`): plausible, varied,
//! deterministic for a seed, and cheap to make by the million. Demo data for people lives in
//! `fixtures/` instead.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::domain::order::{Certificate, Handler, Inbound, InvoiceDetails, SealKind, ShipTo};
use crate::domain::{InvoiceStatus, Money, Order, OrderKind, OrderNo, Status, Waybill};

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗",
    "高",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞",
    "平",
];
const CITIES: &[(&str, &str)] = &[
    ("北京市市辖区海淀区", "北京"),
    ("北京市市辖区丰台区", "北京"),
    ("上海市市辖区浦东新区", "上海"),
    ("天津市市辖区和平区", "天津"),
    ("河北省石家庄市长安区", "石家庄"),
    ("山东省济南市历下区", "济南"),
    ("广东省广州市天河区", "广州"),
    ("江苏省南京市鼓楼区", "南京"),
    ("浙江省杭州市西湖区", "杭州"),
    ("四川省成都市武侯区", "成都"),
];
const TRADES: &[&str] =
    &["建设工程", "信息技术", "医疗器械", "办公设备", "环保科技", "物业服务", "电力工程", "食品", "印务", "园林绿化"];
const STREETS: &[&str] = &["人民路", "建设大街", "中山路", "解放路", "长安街", "科技园路", "滨河路", "和平路"];

/// Orders per synthetic day: order numbers are `0000` + day + a sequence below this.
const PER_DAY: u64 = 10_000;

/// The `index`-th synthetic order of a seed, as of `now`.
pub fn order(seed: u64, index: u64, now: DateTime<Utc>) -> Order {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index);
    let base = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default();
    let day = base + Duration::days(((seed % 2) * 2000 + index / PER_DAY) as i64);
    let order_no = OrderNo::from_parts(day, (index % PER_DAY + 1) as u32);
    let created_at = now - Duration::minutes(rng.random_range(60..60 * 24 * 60));
    let status = match rng.random_range(0..100) {
        0..=59 => Status::Completed,
        60..=64 => Status::Unpaid,
        65..=74 => Status::Paid,
        75..=79 => Status::Received,
        80..=81 => Status::Renewing,
        82..=84 => Status::Renewed,
        85..=93 => Status::Shipped,
        94..=96 => Status::Cancelled,
        _ => Status::Refunded,
    };
    let paid = !matches!(status, Status::Unpaid | Status::Cancelled);
    let paid_at = paid.then(|| created_at + Duration::minutes(rng.random_range(1..600)));
    let at_desk =
        matches!(status, Status::Received | Status::Renewing | Status::Renewed | Status::Shipped | Status::Completed);
    let received_at = at_desk.then(|| paid_at.unwrap_or(created_at) + Duration::hours(rng.random_range(20..72)));
    let shipped = matches!(status, Status::Shipped | Status::Completed);
    let surname = SURNAMES[rng.random_range(0..SURNAMES.len())];
    let holder = format!("{surname}{}", GIVEN[rng.random_range(0..GIVEN.len())]);
    let (region, city) = CITIES[rng.random_range(0..CITIES.len())];
    let company = format!(
        "{city}{}{}有限公司",
        ["华", "鑫", "正", "恒", "瑞", "博", "远", "宏"][rng.random_range(0..8)],
        TRADES[rng.random_range(0..TRADES.len())]
    );
    let phone = format!("1{}{:09}", rng.random_range(3..10), rng.random_range(0..1_000_000_000u64));
    let key_serial = format!("{}", 15_500_000_000u64 + seed * 10_000_000 + index);
    let not_before = created_at - Duration::days(rng.random_range(300..400));
    let seal = if not_before < Utc.with_ymd_and_hms(2021, 12, 17, 0, 0, 0).single().unwrap_or(now) {
        SealKind::Single
    } else {
        SealKind::Dual
    };
    let waybill = format!("SF{}{:012}", 1 + seed % 9, index);
    let account = format!("ys{:x}{index}", seed % 4096);
    Order {
        id: 0,
        version: 1,
        platform_order_no: Some(format!("ZFS00000{}{:05}", day.format("%y%m%d"), index % 100_000)),
        order_no,
        kind: OrderKind::MailBack,
        term_years: 1,
        amount: Money::from_fen(24_900),
        status,
        hold: None,
        invoice_status: if shipped { InvoiceStatus::Issued } else { InvoiceStatus::Pending },
        created_at,
        paid_at,
        docs_approved_at: paid_at,
        account,
        holder_name: holder.clone(),
        company: company.clone(),
        contact_phone: phone.clone(),
        key_serial: key_serial.into(),
        cert: Certificate {
            serial: format!("{:016X}", rng.random::<u64>()),
            subject: format!("CN={holder}@{company},O={company},C=CN"),
            not_before,
            not_after: not_before + Duration::days(365),
            seal,
        },
        handler: Handler {
            name: holder.clone(),
            phone: phone.clone(),
            id_number: format!("110101{:012}", rng.random_range(0..1_000_000_000_000u64)),
            docs_approved: paid,
        },
        inbound: Inbound { carrier: "顺丰速运".into(), waybill: Some(waybill) },
        ship_to: ShipTo {
            name: holder,
            phone,
            region: region.to_string(),
            address: format!("{}{}号", STREETS[rng.random_range(0..STREETS.len())], rng.random_range(1..300)),
        },
        invoice: InvoiceDetails {
            title: company,
            tax_id: format!("91110108MA{:08}", rng.random_range(0..100_000_000)),
            ..InvoiceDetails::default()
        },
        received_at,
        received_by: received_at.map(|_| "synthetic".to_string()),
        outbound_waybill: if shipped { Waybill::parse(&format!("SF2{:012}", index)).ok() } else { None },
        shipped_at: if shipped { received_at.map(|t| t + Duration::hours(rng.random_range(2..40))) } else { None },
        picked_up_at: None,
        delivered_at: None,
        updated_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_orders_and_numbers_are_unique() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap();
        assert_eq!(order(7, 12, now), order(7, 12, now));
        let nos: std::collections::HashSet<String> =
            (0..30_000).map(|i| order(7, i, now).order_no.to_string()).collect();
        assert_eq!(nos.len(), 30_000);
        let o = order(1, 5, now);
        assert!(Waybill::parse(o.inbound.waybill.as_deref().unwrap()).is_ok());
    }
}
