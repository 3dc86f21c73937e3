//! The administrator's operations: provisioning, reset, the trace, and the manual clock. The
//! admin channel (`/admin` on the WebSocket front, docs/wire-protocol.md) carries them as JSON;
//! in-process users call [`super::ServerHandle::admin_op`] with the same types.
//!
//! Each operation runs under the server's lock and checks before it acts: a refused operation
//! (its `CallError` code says why) changes nothing.

use serde::{Deserialize, Serialize};

use super::TraceEntry;
use super::auth::Token;
use super::population::{self, GroupSpec, Population, UserSpec};
use super::state::{ClockMode, ServerState};
use crate::core::{
    CallError, CallId, CallSnapshot, Delivery, DeviceId, Endpoint, GroupId, Limits, Op, Plan,
    Reply, UserId,
};
use crate::net::limits::{ADVANCE_MS_MAX, TRACE_READ_MAX};
use crate::net::wire::WireError;

/// One administrative operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdminOp {
    /// A user with their devices; the reply lists the devices' ids in order.
    AddUser(UserSpec),
    /// Refused (422) while a device of theirs is connected or they are in a call.
    RemoveUser {
        user: UserId,
    },
    AddDevice {
        user: UserId,
        label: String,
        token: Token,
    },
    /// A connected device is closed first (code 909), as if it disconnected.
    RemoveDevice {
        user: UserId,
        label: String,
    },
    AddGroup(GroupSpec),
    RemoveGroup {
        group: GroupId,
    },
    /// Changes the given settings of a user; calls under way keep going.
    SetUser {
        user: UserId,
        #[serde(default)]
        plan: Option<Plan>,
        #[serde(default)]
        endpoint: Option<Endpoint>,
        #[serde(default)]
        call_waiting: Option<bool>,
        #[serde(default)]
        end_call_permission: Option<bool>,
    },
    /// Replaces everything with this population (a reset, then every entry), or refuses it
    /// whole, naming the entry.
    Provision {
        population: Population,
    },
    /// Back to empty: every connection closed (909), every call, user, device and trace entry
    /// gone, the manual clock at 0. With `limits`, the new core has them.
    Reset {
        #[serde(default)]
        limits: Option<Limits>,
    },
    /// The core's limits.
    Limits,
    /// Counts, the clock, and the trace's next entry number.
    Status,
    /// Trace entries numbered `from` on (default 0), at most `max` (default and cap 65,536).
    Trace {
        #[serde(default)]
        from: u64,
        #[serde(default)]
        max: Option<usize>,
    },
    /// Manual clock only: moves time forward by `ms`, firing each deadline at its own time.
    Advance {
        ms: u64,
    },
    /// A call's state, live or recently ended, without authorization.
    GetCall {
        call: CallId,
    },
}

impl AdminOp {
    pub fn name(&self) -> &'static str {
        match self {
            AdminOp::AddUser(_) => "add_user",
            AdminOp::RemoveUser { .. } => "remove_user",
            AdminOp::AddDevice { .. } => "add_device",
            AdminOp::RemoveDevice { .. } => "remove_device",
            AdminOp::AddGroup(_) => "add_group",
            AdminOp::RemoveGroup { .. } => "remove_group",
            AdminOp::SetUser { .. } => "set_user",
            AdminOp::Provision { .. } => "provision",
            AdminOp::Reset { .. } => "reset",
            AdminOp::Limits => "limits",
            AdminOp::Status => "status",
            AdminOp::Trace { .. } => "trace",
            AdminOp::Advance { .. } => "advance",
            AdminOp::GetCall { .. } => "get_call",
        }
    }
}

/// The answer to a successful administrative operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum AdminReply {
    Done,
    Devices {
        devices: Vec<DeviceId>,
    },
    Limits {
        limits: Limits,
    },
    Status {
        clock: ClockMode,
        now_ms: u64,
        users: usize,
        devices: usize,
        connected: usize,
        live_calls: usize,
        trace_next: u64,
    },
    Trace {
        entries: Vec<TraceRecord>,
        /// The number to ask `from` next time.
        next: u64,
        /// Entries before `from` that were no longer kept.
        dropped: u64,
    },
    Advanced {
        now_ms: u64,
        /// Every delivery the deadlines caused, in order.
        fired: Vec<Delivery>,
    },
    Call {
        call: Option<CallSnapshot>,
    },
}

/// One trace entry as the admin channel shows it: numbered, refusals as `{code, message}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TraceRecord {
    Request {
        seq: u64,
        at_ms: u64,
        device: DeviceId,
        op: Op,
        result: Result<Reply, WireError>,
    },
    Delivery {
        seq: u64,
        delivery: Delivery,
    },
    Connected {
        seq: u64,
        at_ms: u64,
        device: DeviceId,
    },
    Disconnected {
        seq: u64,
        at_ms: u64,
        device: DeviceId,
        slow: bool,
    },
}

impl TraceRecord {
    fn new(seq: u64, entry: &TraceEntry) -> Self {
        match entry.clone() {
            TraceEntry::Request {
                at_ms,
                device,
                op,
                result,
            } => TraceRecord::Request {
                seq,
                at_ms,
                device,
                op,
                result: result.map_err(|e| WireError::from(&e)),
            },
            TraceEntry::Delivery(delivery) => TraceRecord::Delivery { seq, delivery },
            TraceEntry::Connected { at_ms, device } => {
                TraceRecord::Connected { seq, at_ms, device }
            }
            TraceEntry::Disconnected {
                at_ms,
                device,
                slow,
            } => TraceRecord::Disconnected {
                seq,
                at_ms,
                device,
                slow,
            },
        }
    }
}

impl ServerState {
    pub(super) fn admin(&mut self, op: AdminOp) -> Result<AdminReply, CallError> {
        match op {
            AdminOp::AddUser(spec) => self.add_user(spec),
            AdminOp::RemoveUser { user } => {
                self.core.remove_user(&user)?;
                self.credentials.remove_user(&user);
                Ok(AdminReply::Done)
            }
            AdminOp::AddDevice { user, label, token } => {
                let (core, creds) = (&mut self.core, &mut self.credentials);
                let device = population::add_device(core, creds, &user, &label, &token)
                    .map_err(|(_, e)| e)?;
                Ok(AdminReply::Devices {
                    devices: vec![device],
                })
            }
            AdminOp::RemoveDevice { user, label } => {
                let device = self
                    .credentials
                    .device(&user, &label)
                    .ok_or_else(|| CallError::not_found("device", format!("{user}/{label}")))?;
                if self.is_connected(device) {
                    self.evict(device, 909, "device removed");
                }
                self.core.remove_device(device)?;
                self.credentials.remove(&user, &label);
                Ok(AdminReply::Done)
            }
            AdminOp::AddGroup(g) => {
                self.core.add_group(g.name.as_str(), &g.members)?;
                Ok(AdminReply::Done)
            }
            AdminOp::RemoveGroup { group } => {
                self.core.remove_group(&group)?;
                Ok(AdminReply::Done)
            }
            AdminOp::SetUser {
                user,
                plan,
                endpoint,
                call_waiting,
                end_call_permission,
            } => {
                let mut config = self
                    .core
                    .user_config(&user)
                    .cloned()
                    .ok_or_else(|| CallError::not_found("user", &user))?;
                config.plan = plan.unwrap_or(config.plan);
                config.endpoint = endpoint.unwrap_or(config.endpoint);
                config.call_waiting = call_waiting.unwrap_or(config.call_waiting);
                config.end_call_permission =
                    end_call_permission.unwrap_or(config.end_call_permission);
                self.core.set_user_config(&user, config)?;
                Ok(AdminReply::Done)
            }
            AdminOp::Provision { population } => self.provision(&population),
            AdminOp::Reset { limits } => {
                let pop = Population {
                    limits,
                    ..Population::default()
                };
                self.provision(&pop)
            }
            AdminOp::Limits => Ok(AdminReply::Limits {
                limits: self.core.limits().clone(),
            }),
            AdminOp::Status => Ok(self.status()),
            AdminOp::Trace { from, max } => Ok(self.read_trace(from, max)),
            AdminOp::Advance { ms } => {
                if ms > ADVANCE_MS_MAX {
                    return Err(CallError::TooLarge {
                        field: "ms",
                        len: usize::try_from(ms).unwrap_or(usize::MAX),
                        max: ADVANCE_MS_MAX as usize,
                    });
                }
                let fired = self.advance(ms)?;
                Ok(AdminReply::Advanced {
                    now_ms: self.now_ms(),
                    fired,
                })
            }
            AdminOp::GetCall { call } => Ok(AdminReply::Call {
                call: self.core.call_snapshot(call),
            }),
        }
    }

    fn add_user(&mut self, spec: UserSpec) -> Result<AdminReply, CallError> {
        // Check every device before adding anything, so a refusal changes nothing.
        let mut labels = std::collections::BTreeSet::new();
        for d in &spec.devices {
            if !labels.insert(d.label.as_str()) {
                let reason = format!("device `{}` is listed twice", d.label);
                return Err(CallError::bad("devices", reason));
            }
        }
        if spec.devices.len() > self.core.limits().devices_per_user_max {
            return Err(CallError::Capacity("devices_per_user_max"));
        }
        let trial = Population {
            limits: Some(self.core.limits().clone()),
            users: vec![spec.clone()],
            groups: Vec::new(),
        };
        population::build(&trial, self.core.limits(), &[]).map_err(|r| r.error)?;
        let user = self.core.add_user(spec.name.as_str(), spec.config())?;
        let mut devices = Vec::new();
        for d in &spec.devices {
            let (core, creds) = (&mut self.core, &mut self.credentials);
            let id = population::add_device(core, creds, &user, &d.label, &d.token)
                .map_err(|(_, e)| e)?;
            devices.push(id);
        }
        Ok(AdminReply::Devices { devices })
    }

    fn provision(&mut self, pop: &Population) -> Result<AdminReply, CallError> {
        let (core, credentials) =
            population::build(pop, &self.base_limits, &self.faults).map_err(|r| r.error)?;
        self.evict_all(909, "server reset");
        self.core = core;
        self.credentials = credentials;
        self.routes.clear();
        self.log.entries.clear();
        self.log.first_seq = 0;
        self.armed = None;
        // A fresh core's times start at 0, on either clock.
        self.clock = super::state::Clock::new(self.clock.mode());
        Ok(AdminReply::Done)
    }

    fn status(&self) -> AdminReply {
        AdminReply::Status {
            clock: self.clock.mode(),
            now_ms: self.now_ms(),
            users: self.core.user_count(),
            devices: self.core.device_ids().count(),
            connected: self.routes.iter().filter(|r| r.is_some()).count(),
            live_calls: self.core.live_calls(),
            trace_next: self.log.next_seq(),
        }
    }

    fn read_trace(&self, from: u64, max: Option<usize>) -> AdminReply {
        let max = max.unwrap_or(TRACE_READ_MAX).min(TRACE_READ_MAX);
        let first = self.log.first_seq;
        let dropped = first.saturating_sub(from);
        let start = from.max(first);
        let skip = usize::try_from(start - first).unwrap_or(usize::MAX);
        let entries: Vec<TraceRecord> = self
            .log
            .entries
            .iter()
            .skip(skip)
            .take(max)
            .enumerate()
            .map(|(i, e)| TraceRecord::new(start + i as u64, e))
            .collect();
        let next = start + entries.len() as u64;
        AdminReply::Trace {
            entries,
            next,
            dropped,
        }
    }
}
