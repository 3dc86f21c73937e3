//! The rules of placing a call and answering it: place, ring, accept, decline, cancel.

use crate::core::{
    CallId, CallStatus, DetachReason, EndReason, Event, Feature, Forbidden, ParticipantState as P,
};

use super::*;

impl World {
    pub(super) fn place(
        &mut self,
        by: Dev,
        to: &[usize],
        video: bool,
        group: Option<usize>,
    ) -> Answer {
        if !self.online.contains(&by) {
            return Err(Refusal::NotConnected);
        }
        let me = by.user;
        check_invitees(to, me)?;
        let is_group = group.is_some() || to.len() > 1;
        if let Some(g) = group {
            let members = GROUPS[g].1;
            if !members.contains(&me) || to.iter().any(|u| !members.contains(u)) {
                return Err(Refusal::Forbidden(Forbidden::NotGroupMember));
            }
        }
        let plan = self.setup[me].plan;
        let feature = match (is_group, video) {
            (true, _) => Feature::GroupCalls,
            (false, false) => Feature::OneToOneAudio,
            (false, true) => Feature::OneToOneVideo,
        };
        if !plan.allows(feature) {
            return Err(Refusal::Forbidden(Forbidden::NotInPlan(feature)));
        }
        if to.len() + 1 > plan.max_participants() {
            return Err(Refusal::Forbidden(Forbidden::ParticipantLimit(
                plan.max_participants(),
            )));
        }
        if self.busy(me, None) {
            return Err(Refusal::Busy(user_name(me)));
        }
        if self.live_calls() >= LIVE_CALLS_MAX {
            return Err(Refusal::Capacity);
        }
        let (busy, unavailable) = self.sort_invitees(to, None);
        if busy.len() + unavailable.len() == to.len() {
            // Nobody can ring.
            return Err(match busy.first() {
                Some(&u) => Refusal::Busy(user_name(u)),
                None => Refusal::Unavailable(user_name(unavailable[0])),
            });
        }
        let id = CallId(self.calls.len() as u64 + 1);
        let mut host = Person::new(me, P::Calling);
        host.seat = Some(by);
        host.handled_on = Some(by);
        let mut people = vec![host];
        for &u in to {
            people.push(self.invitation(u, &busy, &unavailable));
        }
        self.calls.push(CallM {
            id,
            video,
            group,
            is_group,
            created: self.now,
            status: CallStatus::Calling,
            ended: None,
            people,
            answered: false,
            transfer: None,
        });
        let c = self.calls.len() - 1;
        let info = self.calls[c].info(None);
        let ringing: Vec<Dev> = self.calls[c]
            .people
            .iter()
            .flat_map(|p| p.ringing.iter().copied())
            .collect();
        for d in ringing {
            self.tell(d, Event::Incoming { info: info.clone() });
        }
        Ok(Outcome::Placed {
            call: id,
            busy: busy.into_iter().map(user_id).collect(),
            unavailable: unavailable.into_iter().map(user_id).collect(),
        })
    }

    /// Who of `users` cannot be rung: busy ones, then (of the rest) those with no device online.
    pub(super) fn sort_invitees(
        &self,
        users: &[usize],
        call: Option<usize>,
    ) -> (Vec<usize>, Vec<usize>) {
        let busy: Vec<usize> = users
            .iter()
            .copied()
            .filter(|&u| self.busy(u, call))
            .collect();
        let unavailable = users
            .iter()
            .copied()
            .filter(|u| !busy.contains(u) && self.online_devices(*u).is_empty())
            .collect();
        (busy, unavailable)
    }

    /// A fresh invitation of `u`: ringing on every online device until the ring timeout.
    pub(super) fn invitation(&self, u: usize, busy: &[usize], unavailable: &[usize]) -> Person {
        if busy.contains(&u) {
            Person::new(u, P::Busy)
        } else if unavailable.contains(&u) {
            Person::new(u, P::Unavailable)
        } else {
            let mut p = Person::new(u, P::Invited);
            p.ringing = self.online_devices(u);
            p.rings_until = Some(self.now + self.dialect.ring_timeout_ms);
            p
        }
    }

    /// Every operation on an existing call: the common checks, then the operation's own.
    pub(super) fn on_call(&mut self, step: &Step) -> Answer {
        let (by, back) = step.actor_and_call().expect("an operation on a call");
        if !self.online.contains(&by) {
            return Err(Refusal::NotConnected);
        }
        let c = back.resolve(self.calls.len()).0 as usize - 1;
        if c >= self.calls.len() {
            return Err(Refusal::NotFound);
        }
        let Some(i) = self.calls[c].person_of(by.user) else {
            return Err(Refusal::Forbidden(Forbidden::NotMember));
        };
        if !self.calls[c].live() {
            return Err(Refusal::CallEnded);
        }
        match step {
            Step::GetCall { .. } => Ok(Outcome::Snapshot(Box::new(self.snapshot(c)))),
            Step::Ring { .. } => self.ring(c, i, by),
            Step::Accept { .. } => self.accept(c, i, by),
            Step::Decline { code, .. } => self.decline(c, i, by, *code),
            Step::Cancel { .. } => self.cancel(c, i, by),
            Step::Hangup { .. } => self.hangup(c, i, by),
            Step::EndForAll { .. } => self.end_for_all(c, i, by),
            Step::Join { .. } => self.join(c, i, by),
            Step::Invite { users, .. } => self.invite(c, i, by, users),
            Step::StartSession { .. } => self.start_session(c, i, by),
            Step::Hold { on, .. } => self.hold(c, i, by, *on),
            Step::Mute { video, muted, .. } => self.mute(c, i, by, *video, *muted),
            Step::Dtmf { digits, .. } => self.dtmf(c, i, by, digits),
            Step::Transfer { to, .. } => self.transfer(c, i, by, *to),
            Step::Place { .. }
            | Step::Advance { .. }
            | Step::Offline { .. }
            | Step::Online { .. } => {
                unreachable!("not an operation on a call")
            }
        }
    }

    /// May `by` answer person `i`'s invitation? Only a device it rings on; once the invitation
    /// was handled, another device of that user hears "handled on another device" (409).
    pub(super) fn check_answer(&self, c: usize, i: usize, by: Dev) -> Result<(), Refusal> {
        let p = &self.calls[c].people[i];
        if pending(&p.state) {
            if p.ringing.contains(&by) {
                Ok(())
            } else {
                Err(Refusal::InvalidState)
            }
        } else if p.handled_on.is_some_and(|d| d != by) {
            Err(Refusal::HandledElsewhere)
        } else {
            Err(Refusal::InvalidState)
        }
    }

    /// Is `by` person `i`'s seat in the session?
    pub(super) fn check_seat(&self, c: usize, i: usize, by: Dev) -> Result<(), Refusal> {
        let p = &self.calls[c].people[i];
        if !in_session(&p.state) {
            Err(Refusal::InvalidState)
        } else if p.seat != Some(by) {
            Err(Refusal::HandledElsewhere)
        } else {
            Ok(())
        }
    }

    /// Seated, and joined (not the host still waiting for an answer).
    pub(super) fn check_joined(&self, c: usize, i: usize, by: Dev) -> Result<(), Refusal> {
        self.check_seat(c, i, by)?;
        if self.calls[c].people[i].state == P::Joined {
            Ok(())
        } else {
            Err(Refusal::InvalidState)
        }
    }

    pub(super) fn check_connected(&self, c: usize) -> Result<(), Refusal> {
        if self.calls[c].status == CallStatus::Connected {
            Ok(())
        } else {
            Err(Refusal::InvalidState)
        }
    }

    pub(super) fn ring(&mut self, c: usize, i: usize, by: Dev) -> Answer {
        self.check_answer(c, i, by)?;
        if self.calls[c].people[i].state == P::Invited {
            self.calls[c].people[i].state = P::Ringing;
            let (id, user) = (self.calls[c].id, user_id(self.calls[c].people[i].user));
            let event = Event::Participant {
                call: id,
                user,
                state: P::Ringing,
            };
            self.tell_session(c, event, None);
            if self.calls[c].status == CallStatus::Calling {
                self.set_status(c, CallStatus::Ringing);
            }
        }
        Ok(Outcome::Done)
    }

    pub(super) fn accept(&mut self, c: usize, i: usize, by: Dev) -> Answer {
        self.check_answer(c, i, by)?;
        if self.busy(by.user, Some(c)) {
            return Err(Refusal::Busy(user_name(by.user)));
        }
        self.sit(c, i, by);
        Ok(Outcome::Done)
    }

    /// Person `i` enters the session on `by` (accept or join).
    pub(super) fn sit(&mut self, c: usize, i: usize, by: Dev) {
        if self.calls[c].transfer.is_some_and(|(_, to)| to == i) {
            self.transfer_succeeded(c);
        }
        let id = self.calls[c].id;
        let p = &mut self.calls[c].people[i];
        let others: Vec<Dev> = std::mem::take(&mut p.ringing)
            .into_iter()
            .filter(|d| *d != by)
            .collect();
        p.clear_session();
        p.state = P::Joined;
        p.seat = Some(by);
        p.handled_on = Some(by);
        let user = user_id(p.user);
        for d in others {
            self.tell(
                d,
                Event::Detached {
                    call: id,
                    reason: DetachReason::AnsweredElsewhere,
                },
            );
        }
        let call = &mut self.calls[c];
        // The caller joins automatically when the first callee accepts (Stream).
        if call.people[0].state == P::Calling {
            call.people[0].state = P::Joined;
        }
        if i != 0 {
            call.answered = true;
        }
        let event = Event::Participant {
            call: id,
            user,
            state: P::Joined,
        };
        self.tell_session(c, event, Some(by));
        if self.calls[c].status < CallStatus::Connecting {
            self.set_status(c, CallStatus::Connecting);
        }
        // Without the session-start rule, two members joined make the call connected.
        let call = &self.calls[c];
        if !self.dialect.session_start_required
            && call.status == CallStatus::Connecting
            && call.count(|p| p.state == P::Joined) >= 2
        {
            self.set_status(c, CallStatus::Connected);
        }
    }

    pub(super) fn decline(&mut self, c: usize, i: usize, by: Dev, code: Option<u16>) -> Answer {
        let code = code.unwrap_or(603);
        if !(self.dialect.decline_code_min()..=699).contains(&code) {
            return Err(Refusal::BadArgument);
        }
        self.check_answer(c, i, by)?;
        self.invitation_over(c, i, Some(by), P::Declined { code });
        Ok(Outcome::Done)
    }

    /// Person `i`'s invitation is over without an answer (declined on `by`, or timed out).
    pub(super) fn invitation_over(&mut self, c: usize, i: usize, by: Option<Dev>, state: P) {
        let p = &mut self.calls[c].people[i];
        p.rings_until = None;
        if by.is_some() {
            p.handled_on = by;
        }
        p.state = state.clone();
        let user = p.user;
        let code = match state {
            P::Declined { code } => code,
            _ => EndReason::NoAnswer.code(),
        };
        if self.calls[c].transfer.is_some_and(|(_, to)| to == i) {
            self.transfer_failed(c, code);
            return;
        }
        let call = &self.calls[c];
        if !call.answered && call.count(|p| pending(&p.state)) == 0 {
            // Nobody answered and nobody is left to: the call stops.
            let someone_missed = call.count(|p| p.state == P::Missed) > 0;
            let reason = match state {
                P::Declined { code } if !someone_missed => EndReason::Declined {
                    by: user_id(user),
                    code,
                },
                _ => EndReason::NoAnswer,
            };
            self.end(c, reason);
            return;
        }
        let id = call.id;
        for d in std::mem::take(&mut self.calls[c].people[i].ringing) {
            let reason = match (&state, Some(d) == by) {
                (P::Declined { .. }, true) => DetachReason::Declined,
                (P::Declined { .. }, false) => DetachReason::DeclinedElsewhere,
                _ => DetachReason::Missed,
            };
            self.tell(d, Event::Detached { call: id, reason });
        }
        let event = Event::Participant {
            call: id,
            user: user_id(user),
            state,
        };
        self.tell_session(c, event, None);
    }

    pub(super) fn cancel(&mut self, c: usize, i: usize, by: Dev) -> Answer {
        if i != 0 {
            return Err(Refusal::Forbidden(Forbidden::NotCaller));
        }
        let host = &self.calls[c].people[0];
        if host.state != P::Calling {
            return Err(Refusal::InvalidState);
        }
        if host.seat != Some(by) {
            return Err(Refusal::HandledElsewhere);
        }
        let by = user_id(host.user);
        self.end(c, EndReason::Cancelled { by });
        Ok(Outcome::Done)
    }
}
