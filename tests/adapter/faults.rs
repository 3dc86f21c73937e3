//! Certifying a server started with a deliberate bug fails, and names the scenarios that caught
//! it: the suite driven through an adapter catches every fault in the core's list.

use callconf::core::Fault;

use super::{certify, reference_adapter};

#[test]
fn every_injected_fault_fails_certification_and_names_scenarios() {
    let adapter = reference_adapter();
    for fault in Fault::ALL {
        let (code, out) = certify(&["--adapter", &adapter, "--inject-fault", fault.name()]);
        assert_ne!(code, 0, "{} was not caught:\n{out}", fault.name());
        let failed: Vec<&str> = out.lines().filter(|l| l.starts_with("FAILED")).collect();
        assert!(
            !failed.is_empty(),
            "{}: no scenario named:\n{out}",
            fault.name()
        );
        eprintln!(
            "{}: {} scenarios failed, e.g. {}",
            fault.name(),
            failed.len(),
            failed[0]
        );
    }
}
