//! `callconf load --realtime --mux --target`: two generator processes, shards 0/2 and 1/2, each
//! carrying its devices on shared connections (16 devices a connection, the compact encoding)
//! to one `callconf serve` in another process; the reports merge to the whole scenario and each
//! generator removes its users (the run of `realtime_target.rs`, multiplexed).

use crate::realtime_target::two_shards_against_one_server;

#[test]
fn two_multiplexing_generators_load_one_server_and_merge() {
    let merged =
        two_shards_against_one_server("mux-target", &["--mux", "16", "--encoding", "compact"]);
    // Every call completed, and over its own channels each device sent all six requests of a
    // call (place, ringing, accept, two session starts, hang up): no step was lost to sharing.
    assert_eq!(merged.outcomes.get("completed").copied(), Some(1200));
    assert_eq!(merged.requests, 6 * 1200);
}
