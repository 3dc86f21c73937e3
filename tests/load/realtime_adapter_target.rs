//! `callconf load --realtime --target --adapter`: two generator processes, shards 0/2 and 1/2,
//! each with its own reference adapter whose devices connect to one `callconf serve` in another
//! process; the reports merge to the whole scenario and each generator removes its users (the
//! run of `realtime_target.rs`, through adapters).

use crate::realtime_target::two_shards_against_one_server;

#[test]
fn two_generators_through_adapters_load_one_server_and_merge() {
    let adapter = format!("'{}' adapter", env!("CARGO_BIN_EXE_callconf"));
    let merged = two_shards_against_one_server("adapter-target", &["--adapter", &adapter]);
    // Through an adapter callconf sends only the users' operations (place, accept, hang up):
    // acknowledging ringing and starting the sessions are the adapter's own steps. Over its own
    // connections it would send all six of a call.
    assert!(
        merged.requests >= 3 * 1200 && merged.requests < 4 * 1200,
        "{}",
        merged.requests
    );
}
