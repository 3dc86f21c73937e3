//! The six built-in profiles load, the canonical one is exactly the core's defaults, and each
//! vendor's capabilities are the SPEC table's: a "–" cell is an absent capability.

use callconf::core::{Capability as C, Limits, Policy};
use callconf::profile::{Profile, builtin_names};

#[test]
fn all_six_load_in_order() {
    let all = Profile::all().expect("every built-in profile loads");
    let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "canonical",
            "mirrorfly",
            "cometchat",
            "stringee",
            "voximplant",
            "stream"
        ]
    );
    assert_eq!(builtin_names(), names);
    for p in &all {
        assert_eq!(
            p.capabilities.len(),
            C::ALL.len(),
            "{} lists every capability",
            p.name
        );
    }
}

#[test]
fn canonical_is_the_core_default() {
    let p = Profile::builtin("canonical").unwrap();
    assert!(p.absent().is_empty());
    assert_eq!(p.core_limits(), Limits::default());
    assert_eq!(p.policy(), Policy::default());
}

fn absent(name: &str) -> Vec<C> {
    Profile::builtin(name).unwrap().absent()
}

#[test]
fn capabilities_follow_the_spec_table() {
    use C::*;
    assert_eq!(
        absent("mirrorfly"),
        [
            Notify, EndForAll, Hold, Dtmf, Info, Message, CustomData, EarlyMedia, Transfer
        ]
    );
    assert!(absent("cometchat").contains(&Ringing));
    assert!(absent("cometchat").contains(&GetCall));
    assert!(absent("stringee").contains(&GroupCalls));
    assert!(!absent("stringee").contains(&Hold));
    assert_eq!(absent("voximplant"), [Notify, EndForAll, Hold]);
    // Only Stream ends a call for everyone or notifies instead of ringing.
    for name in builtin_names() {
        let p = Profile::builtin(name).unwrap();
        let only_stream = name == "stream" || name == "canonical";
        assert_eq!(
            p.policy().has(EndForAll),
            only_stream,
            "{name}: end_for_all"
        );
        assert_eq!(p.policy().has(Notify), only_stream, "{name}: notify");
    }
}

#[test]
fn limits_and_rules_become_the_policy() {
    let vox = Profile::builtin("voximplant").unwrap().core_limits();
    assert_eq!(vox.policy.dtmf_characters, "0123456789*#p");
    assert_eq!(vox.custom_data_bytes_max, 200);
    assert_eq!(vox.info_bytes_max, 8192);
    assert_eq!(vox.early_media_ms_max, 60_000);
    assert!(!vox.policy.transfer_app_phone_only);
    assert!(vox.policy.header_x_prefix_required);
    let stringee = Profile::builtin("stringee").unwrap().policy();
    assert!(stringee.transfer_app_phone_only);
    assert!(
        Profile::builtin("cometchat")
            .unwrap()
            .policy()
            .session_start_required
    );
    assert!(
        !Profile::builtin("stream")
            .unwrap()
            .policy()
            .session_start_required
    );
    assert!(
        Profile::builtin("stream")
            .unwrap()
            .policy()
            .end_for_all_host_needs_permission
    );
}

#[test]
fn code_maps_and_names() {
    let s = Profile::builtin("stringee").unwrap();
    assert_eq!(s.canonical_code("r=1"), Some(404));
    assert_eq!(s.canonical_code("r=2"), Some(409));
    assert_eq!(s.canonical_code("r=9"), None);
    assert_eq!(s.operation_name(C::Transfer), "sendTransfer");
    assert_eq!(
        s.operation_name(C::Mute),
        "mute",
        "unnamed: the canonical name"
    );
    let m = Profile::builtin("mirrorfly").unwrap();
    assert_eq!(m.canonical_code("statusCode 403"), Some(403));
    let v = Profile::builtin("voximplant").unwrap();
    assert_eq!(v.canonical_code("486"), Some(486));
}

#[test]
fn a_profile_file_loads_by_path_named_after_its_stem() {
    let dir = std::env::temp_dir().join(format!("callconf-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mine.yaml");
    std::fs::write(&path, crate::canonical_with("hold: true", "hold: false")).unwrap();
    let p = Profile::resolve(path.to_str().unwrap()).unwrap();
    assert_eq!(p.name, "mine");
    assert_eq!(p.absent(), [C::Hold]);
    let _ = std::fs::remove_dir_all(&dir);
}
