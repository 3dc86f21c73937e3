//! Both adapters pass every scenario the in-process run passes.

use super::{certify, passed, reference_adapter};

fn in_process_passed() -> usize {
    let (code, out) = certify(&[]);
    assert_eq!(code, 0, "{out}");
    passed(&out)
}

#[test]
fn the_reference_adapter_passes_the_canonical_suite_out_of_process() {
    let expected = in_process_passed();
    let (code, out) = certify(&["--adapter", &reference_adapter()]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(passed(&out), expected, "{out}");
}

#[test]
fn the_python_adapter_passes_the_canonical_suite_out_of_process() {
    let expected = in_process_passed();
    let (code, out) = certify(&["--adapter", "python3 adapters/python/adapter.py"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(passed(&out), expected, "{out}");
}
