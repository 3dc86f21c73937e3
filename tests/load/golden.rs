//! The simulator's report for a fixed slice of `million.yaml` is kept byte for byte
//! (`fixtures/load/million_slice.json`): a change made for speed must not change what is
//! simulated. A change that means to change behaviour rewrites the file, and says so.
//! Regenerate with `callconf load fixtures/load/million_slice.yaml --quiet --json
//! fixtures/load/million_slice.json`.

use callconf::report::Report;
use callconf::scenario;
use callconf::sim::{self, Control, Shard};

#[test]
fn the_million_slice_report_is_unchanged_byte_for_byte() {
    let path = "fixtures/load/million_slice.yaml";
    let sc = scenario::load(std::path::Path::new(path)).unwrap();
    let kept = std::fs::read_to_string("fixtures/load/million_slice.json").unwrap();
    for threads in [1, 2] {
        let r = sim::run(&sc, sc.seed, Shard::WHOLE, threads, &Control::new()).unwrap();
        let report = Report::new(&sc.name, "virtual", &r, sc.population.cells, &sc.thresholds);
        assert!(
            report.to_json() == kept,
            "{threads} thread(s): the report differs from fixtures/load/million_slice.json"
        );
    }
}
