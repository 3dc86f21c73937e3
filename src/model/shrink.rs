//! The shrinker that runs after proptest's: proptest makes a single backwards pass of deletions
//! and (for a state machine) never simplifies the initial state; this removes any step, and
//! simplifies any user of the cast, while the case still fails, until nothing more can go.
//!
//! It knows nothing of what runs the case: `fails` runs a candidate against the system (in this
//! process, or behind an adapter) and says why it fails, if it does.

use crate::model::{PlanKind, Step, USERS, UserSetup, World, generate};

/// A failing case, minimal: the cast, the steps, why it fails, and the runs it took.
pub struct Shrunk {
    pub cast: World,
    pub steps: Vec<Step>,
    pub reason: String,
    pub runs: u32,
}

/// Shrinks a failing case (`cast`, `steps`, failing with `reason`). `fails` is asked only for
/// candidates that are valid cases (every device they name exists, no call counted back too far).
pub fn minimize(
    mut cast: World,
    mut steps: Vec<Step>,
    mut reason: String,
    mut fails: impl FnMut(&World, &[Step]) -> Option<String>,
) -> Shrunk {
    let mut runs = 0;
    let mut try_case = |cast: &World, steps: &[Step]| -> Option<String> {
        let mut world = cast.clone();
        for step in steps {
            if !generate::valid(&world, step) {
                return None;
            }
            world.step(step);
        }
        runs += 1;
        fails(cast, steps)
    };
    loop {
        let mut smaller = false;
        let mut i = steps.len();
        while i > 0 {
            i -= 1;
            for fewer in without(&cast, &steps, i) {
                if let Some(r) = try_case(&cast, &fewer) {
                    (steps, reason, smaller) = (fewer, r, true);
                    break;
                }
            }
            i = i.min(steps.len());
        }
        for u in 0..USERS {
            for candidate in simpler_casts(&cast, u) {
                if let Some(r) = try_case(&candidate, &steps) {
                    (cast, reason, smaller) = (candidate, r, true);
                }
            }
        }
        if !smaller {
            return Shrunk {
                cast,
                steps,
                reason,
                runs,
            };
        }
    }
}

/// The cast with user `u` simpler in one way: one device, an app user, no call waiting, no
/// end-call permission, the full plan.
fn simpler_casts(cast: &World, u: usize) -> Vec<World> {
    let s = cast.setup[u];
    [
        UserSetup { devices: 1, ..s },
        UserSetup { phone: false, ..s },
        UserSetup {
            call_waiting: false,
            ..s
        },
        UserSetup {
            may_end: false,
            ..s
        },
        UserSetup {
            plan: PlanKind::Full,
            ..s
        },
    ]
    .into_iter()
    .filter(|x| *x != s)
    .map(|simple| {
        let mut setup = cast.setup;
        setup[u] = simple;
        World::with_dialect(setup, cast.dialect.clone())
    })
    .collect()
}

/// `steps` without step `i`: as they are, and, if step `i` placed a call, with the later steps
/// that meant an older call counting back one less, so that they still mean the same call.
pub fn without(cast: &World, steps: &[Step], i: usize) -> Vec<Vec<Step>> {
    let mut fewer = steps.to_vec();
    fewer.remove(i);
    let mut world = cast.clone();
    let mut placed = Vec::new();
    for step in steps {
        let before = world.calls.len();
        world.step(step);
        placed.push((before, world.calls.len() > before));
    }
    let (before_i, placed_by_i) = placed[i];
    if !placed_by_i {
        return vec![fewer];
    }
    // The call step i placed is number before_i + 1.
    let mut kept = fewer.clone();
    for (j, step) in kept.iter_mut().enumerate().skip(i) {
        let before_j = placed[j + 1].0;
        if let Some(back) = step.call_mut() {
            let id = back.resolve(before_j).0 as usize;
            if id <= before_i && back.0 > 0 {
                back.0 -= 1;
            }
        }
    }
    vec![kept, fewer]
}

/// The steps as a script, with calls named by id as the model numbers them.
pub fn script(cast: &World, steps: &[Step]) -> Vec<String> {
    let mut world = cast.clone();
    steps
        .iter()
        .map(|step| {
            let line = step.show(world.calls.len());
            world.step(step);
            line
        })
        .collect()
}
