//! `--shard K/N` runs a deterministic slice; merging the N shard reports equals the single run.

use callconf::report::Report;
use callconf::sim::Shard;

use crate::{run, small};

#[test]
fn merged_shards_equal_the_single_run() {
    let sc = small();
    let whole = run(&sc, 7, Shard::WHOLE, 2);
    for n in [2, 4] {
        let shards: Vec<(String, Report)> = (0..n)
            .map(|k| {
                let r = run(&sc, 7, Shard { index: k, count: n }, 1);
                // Through JSON, as `callconf merge` reads them.
                let back = Report::from_json("shard", &r.to_json()).unwrap();
                (format!("shard-{k}"), back)
            })
            .collect();
        let merged = Report::merge(&shards, &sc.thresholds).unwrap();
        assert_eq!(merged.to_json(), whole.to_json(), "{n} shards");
    }
}

#[test]
fn overlapping_shards_are_refused() {
    let sc = small();
    let a = run(&sc, 7, Shard { index: 0, count: 2 }, 1);
    let shards = vec![("a".to_owned(), a.clone()), ("b".to_owned(), a)];
    let err = Report::merge(&shards, &[]).unwrap_err().to_string();
    assert!(err.contains("already covered"), "{err}");
}

#[test]
fn more_shards_than_cells_is_an_error() {
    let sc = small();
    let control = callconf::sim::Control::new();
    let err = callconf::sim::run(&sc, 7, Shard { index: 0, count: 5 }, 1, &control)
        .err()
        .unwrap();
    assert!(err.to_string().contains("at most 4 shards"), "{err}");
}
