//! The stored shape of the records (the stores and the CLI read these field names) and
//! the score's invariants.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use scorer::verdict::{empty_verdict, replace_days, score_at};
use scorer::{Evidence, Label, Subject, VerdictConfig};

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).expect("date") + Duration::days(n)
}

#[test]
fn verdict_json_has_the_fields_the_cli_prints_and_round_trips() {
    let cfg = VerdictConfig::default();
    let ip: IpAddr = "2001:288:1::5".parse().expect("ip");
    let mut v = empty_verdict(ip, Subject::Remote, day(3));
    let fresh = BTreeMap::from([
        (
            day(1),
            vec![Evidence::new(
                Label::C2CheckIn,
                0.9,
                Some("45.1.2.3".parse().expect("ip")),
            )],
        ),
        (
            day(3),
            vec![Evidence::new(Label::CheckInClient, 0.6, None).with("prior_checkin_share", 0.2)],
        ),
    ]);
    replace_days(&mut v, day(0), day(3), fresh, day(3), &cfg);
    let json = serde_json::to_value(&v).expect("json");
    assert_eq!(json["ip"], "2001:288:1::5");
    assert!(json["score"].as_f64().expect("score") > 0.0);
    assert_eq!(json["level"], "suspicious");
    assert_eq!(
        json["labels"],
        serde_json::json!(["CheckInClient", "C2CheckIn"])
    );
    assert_eq!(json["first_seen"], "2025-01-02");
    assert_eq!(json["last_seen"], "2025-01-04");
    assert_eq!(json["label_dates"]["C2CheckIn"]["first"], "2025-01-02");
    assert_eq!(
        json["evidence"]["2025-01-04"]["items"][0]["values"]["prior_checkin_share"],
        0.2
    );
    let back: scorer::Verdict = serde_json::from_value(json).expect("round trip");
    assert_eq!(back, v);
}

fn labels() -> impl Strategy<Value = Label> {
    prop_oneof![
        Just(Label::BlocklistHit),
        Just(Label::Scanner),
        Just(Label::CheckInClient),
        Just(Label::C2CheckIn),
        Just(Label::Relay),
        Just(Label::AptTarget),
        Just(Label::FamilyMember),
    ]
}

proptest! {
    /// Replaying any day's evidence any number of times leaves the same score, and the
    /// score never exceeds (max daily points) · h / ln 2 + the weak-evidence lift.
    #[test]
    fn score_is_a_pure_bounded_function_of_the_evidence(
        items in prop::collection::vec((0i64..60, labels(), 0.0f64..=1.0), 0..80),
        replay in 0usize..3,
    ) {
        let cfg = VerdictConfig::default();
        let ip: IpAddr = "10.0.0.1".parse().expect("ip");
        let mut fresh: BTreeMap<NaiveDate, Vec<Evidence>> = BTreeMap::new();
        for (d, l, c) in &items {
            fresh.entry(day(*d)).or_default().push(Evidence::new(*l, *c, None));
        }
        let mut v = empty_verdict(ip, Subject::Remote, day(59));
        replace_days(&mut v, day(0), day(59), fresh.clone(), day(59), &cfg);
        let once = v.score;
        for _ in 0..replay {
            for (d, e) in &fresh {
                replace_days(&mut v, *d, *d, BTreeMap::from([(*d, e.clone())]), day(59), &cfg);
            }
        }
        prop_assert!((v.score - once).abs() < 1e-9);
        prop_assert!((score_at(&v.evidence, day(59), &cfg) - once).abs() < 1e-9);
        let max_daily = 0.8 * 4.0 + 0.5 * 2.0;
        let bound = max_daily / (1.0 - (-1.0f64 / cfg.half_life_days).exp2()) + 2.0 * cfg.weak_cap;
        prop_assert!(v.score >= 0.0 && v.score <= bound);
        // Blocklist presence alone scores nothing.
        if items.iter().all(|(_, l, _)| *l == Label::BlocklistHit) {
            prop_assert_eq!(v.score, 0.0);
        }
    }
}
