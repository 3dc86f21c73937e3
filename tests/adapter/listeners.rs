//! Call listeners by id (CometChat `addCallListener` / `removeCallListener`) through the driver
//! protocol's `device.listener`: the vendor scenarios pass through the reference and Python
//! adapters as in process, and an SDK that keeps calling a removed listener fails them, with
//! the listener's extra event named.

use super::{certify, reference_adapter};

const FEATURE: &str = "features/vendors/cometchat.feature";

fn listener_scenarios(adapter: Option<&str>) -> (i32, String) {
    let mut args = vec![
        "--features",
        FEATURE,
        "--profile",
        "cometchat",
        "--name",
        "listener-by-id",
    ];
    if let Some(a) = adapter {
        args.extend(["--adapter", a]);
    }
    certify(&args)
}

#[test]
fn listeners_by_id_pass_in_process_and_through_both_adapters() {
    let python = "python3 adapters/python/adapter.py".to_owned();
    for adapter in [None, Some(reference_adapter()), Some(python)] {
        let (code, out) = listener_scenarios(adapter.as_deref());
        assert_eq!(code, 0, "{adapter:?}:\n{out}");
        assert!(
            out.contains("verdict: PASS — 2 passed"),
            "{adapter:?}:\n{out}"
        );
    }
}

#[test]
fn an_sdk_whose_removed_listener_still_hears_fails() {
    // The Python template with a remove that forgets to remove: the SDK bug the rule is about.
    let template = std::fs::read_to_string("adapters/python/adapter.py").unwrap();
    let fixed = "return self._listeners.pop(listener_id, None) is not None";
    assert!(
        template.contains(fixed),
        "the template's remove_listener changed"
    );
    let broken = template.replace(fixed, "return listener_id in self._listeners");
    let dir = std::env::temp_dir().join(format!("callconf-listeners-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("adapter.py");
    std::fs::write(&path, broken).unwrap();
    let (code, out) = listener_scenarios(Some(&format!("python3 {}", path.display())));
    std::fs::remove_dir_all(&dir).ok();
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("call listener \"incoming-screen\"")
            && out.contains("call-1: incoming Audio call from alice"),
        "{out}"
    );
}
