//! The rules inside a call and around it: hang up, end, join, invite, the media session, hold,
//! mute, DTMF, transfer; time passing and devices going offline and coming back.

use crate::core::{
    CallStatus, DetachReason, EndReason, Event, Forbidden, Media, ParticipantState as P,
    TransferOutcome,
};

use super::*;

impl World {
    pub(super) fn hangup(&mut self, c: usize, i: usize, by: Dev) -> Answer {
        match self.calls[c].people[i].state {
            // The caller before any answer cancels; a ringing invitee declines.
            P::Calling => self.cancel(c, i, by),
            P::Invited | P::Ringing => self.decline(c, i, by, None),
            P::Joined => {
                self.check_seat(c, i, by)?;
                let who = user_id(by.user);
                self.leave(c, i, P::Left, EndReason::HungUp { by: who });
                Ok(Outcome::Done)
            }
            _ => self.check_answer(c, i, by).map(|()| Outcome::Done),
        }
    }

    /// Person `i` leaves the session. A 1:1 call ends; a group call ends when nobody is left, or
    /// one is left after someone had answered.
    pub(super) fn leave(&mut self, c: usize, i: usize, state: P, reason: EndReason) {
        let call = &self.calls[c];
        let others = call.count(|p| p.state == P::Joined) - 1;
        if !call.is_group || others == 0 || (others == 1 && call.answered) {
            self.end(c, reason);
            self.calls[c].people[i].state = state;
            return;
        }
        let id = call.id;
        let p = &mut self.calls[c].people[i];
        let seat = p.seat;
        p.state = state.clone();
        p.clear_session();
        let user = user_id(p.user);
        if let Some(d) = seat {
            self.tell(
                d,
                Event::Detached {
                    call: id,
                    reason: DetachReason::Left,
                },
            );
        }
        self.tell_session(
            c,
            Event::Participant {
                call: id,
                user,
                state,
            },
            None,
        );
    }

    pub(super) fn end_for_all(&mut self, c: usize, i: usize, by: Dev) -> Answer {
        let needs_permission = i != 0 || self.dialect.end_for_all_host_needs_permission;
        if needs_permission && !self.setup[by.user].may_end {
            return Err(Refusal::Forbidden(Forbidden::EndCallPermission));
        }
        self.check_seat(c, i, by)?;
        self.end(
            c,
            EndReason::EndedForEveryone {
                by: user_id(by.user),
            },
        );
        Ok(Outcome::Done)
    }

    pub(super) fn join(&mut self, c: usize, i: usize, by: Dev) -> Answer {
        let call = &self.calls[c];
        let p = &call.people[i];
        if in_session(&p.state) {
            return Err(if p.seat == Some(by) {
                Refusal::InvalidState
            } else {
                Refusal::HandledElsewhere
            });
        }
        if !call.is_group {
            return Err(Refusal::Forbidden(Forbidden::NotGroupCall));
        }
        if matches!(p.state, P::Transferring { .. } | P::Transferred) {
            return Err(Refusal::InvalidState);
        }
        if self.busy(by.user, Some(c)) {
            return Err(Refusal::Busy(user_name(by.user)));
        }
        if !active(&p.state) {
            let max = self.setup[call.people[0].user].plan.max_participants();
            if call.count(|p| active(&p.state)) + 1 > max {
                return Err(Refusal::Forbidden(Forbidden::ParticipantLimit(max)));
            }
        }
        self.sit(c, i, by);
        Ok(Outcome::Done)
    }

    pub(super) fn invite(&mut self, c: usize, i: usize, by: Dev, users: &[usize]) -> Answer {
        if !self.calls[c].is_group {
            return Err(Refusal::Forbidden(Forbidden::NotGroupCall));
        }
        self.check_seat(c, i, by)?;
        check_invitees(users, by.user)?;
        let call = &self.calls[c];
        if let Some(g) = call.group
            && users.iter().any(|u| !GROUPS[g].1.contains(u))
        {
            return Err(Refusal::Forbidden(Forbidden::NotGroupMember));
        }
        if users.iter().any(|&u| {
            call.person_of(u)
                .is_some_and(|j| active(&call.people[j].state))
        }) {
            return Err(Refusal::InvalidState);
        }
        let max = self.setup[call.people[0].user].plan.max_participants();
        if call.count(|p| active(&p.state)) + users.len() > max {
            return Err(Refusal::Forbidden(Forbidden::ParticipantLimit(max)));
        }
        let (busy, unavailable) = self.sort_invitees(users, Some(c));
        let mut rung = Vec::new();
        for &u in users {
            let fresh = self.invitation(u, &busy, &unavailable);
            let call = &mut self.calls[c];
            let j = match call.person_of(u) {
                Some(j) => {
                    call.people[j] = fresh;
                    j
                }
                None => {
                    call.people.push(fresh);
                    call.people.len() - 1
                }
            };
            if pending(&call.people[j].state) {
                rung.push(j);
            }
        }
        let info = self.calls[c].info(None);
        let id = self.calls[c].id;
        for j in rung {
            let p = &self.calls[c].people[j];
            let (user, ringing) = (p.user, p.ringing.clone());
            for d in ringing {
                self.tell(d, Event::Incoming { info: info.clone() });
            }
            let event = Event::Participant {
                call: id,
                user: user_id(user),
                state: P::Invited,
            };
            self.tell_session(c, event, Some(by));
        }
        Ok(Outcome::Invited {
            busy: busy.into_iter().map(user_id).collect(),
            unavailable: unavailable.into_iter().map(user_id).collect(),
        })
    }

    pub(super) fn start_session(&mut self, c: usize, i: usize, by: Dev) -> Answer {
        self.check_joined(c, i, by)?;
        if self.calls[c].people[i].started {
            return Err(Refusal::InvalidState);
        }
        self.calls[c].people[i].started = true;
        let call = &self.calls[c];
        // Connected once two members in the session have started their media.
        if call.status == CallStatus::Connecting
            && call.count(|p| p.state == P::Joined && p.started) >= 2
        {
            self.set_status(c, CallStatus::Connected);
        }
        Ok(Outcome::Done)
    }

    pub(super) fn hold(&mut self, c: usize, i: usize, by: Dev, on: bool) -> Answer {
        self.check_joined(c, i, by)?;
        self.check_connected(c)?;
        let p = &mut self.calls[c].people[i];
        if p.held == on {
            return Err(Refusal::InvalidState);
        }
        p.held = on;
        let event = Event::Hold {
            call: self.calls[c].id,
            user: user_id(by.user),
            on_hold: on,
        };
        self.tell_session(c, event, Some(by));
        Ok(Outcome::Done)
    }

    pub(super) fn mute(&mut self, c: usize, i: usize, by: Dev, video: bool, muted: bool) -> Answer {
        if video && !self.calls[c].video {
            return Err(Refusal::BadArgument);
        }
        self.check_seat(c, i, by)?;
        let p = &mut self.calls[c].people[i];
        let flag = if video {
            &mut p.video_muted
        } else {
            &mut p.audio_muted
        };
        if *flag == muted {
            return Err(Refusal::InvalidState);
        }
        *flag = muted;
        let event = Event::Track {
            call: self.calls[c].id,
            user: user_id(by.user),
            media: if video { Media::Video } else { Media::Audio },
            muted,
        };
        self.tell_session(c, event, Some(by));
        Ok(Outcome::Done)
    }

    pub(super) fn dtmf(&mut self, c: usize, i: usize, by: Dev, digits: &str) -> Answer {
        if digits.is_empty() {
            return Err(Refusal::BadArgument);
        }
        if digits.len() > self.dialect.dtmf_digits_max {
            return Err(Refusal::TooLarge);
        }
        if !digits
            .chars()
            .all(|d| self.dialect.dtmf_characters.contains(d))
        {
            return Err(Refusal::BadArgument);
        }
        self.check_joined(c, i, by)?;
        self.check_connected(c)?;
        let event = Event::Dtmf {
            call: self.calls[c].id,
            from: user_id(by.user),
            digits: digits.to_owned(),
        };
        self.tell_session(c, event, Some(by));
        Ok(Outcome::Done)
    }

    /// Blind transfer of a connected 1:1 call between an app user and a phone: the transferor
    /// waits aside, the target rings with `transferred_by`, the other party stays.
    pub(super) fn transfer(&mut self, c: usize, i: usize, by: Dev, target: usize) -> Answer {
        if target == by.user {
            return Err(Refusal::BadArgument);
        }
        self.check_joined(c, i, by)?;
        self.check_connected(c)?;
        let call = &self.calls[c];
        if call.is_group || call.transfer.is_some() {
            return Err(Refusal::InvalidState);
        }
        let other = call
            .people
            .iter()
            .find(|p| p.state == P::Joined && p.user != by.user)
            .expect("a connected 1:1 call has two joined members");
        if self.dialect.transfer_app_phone_only
            && self.setup[by.user].phone == self.setup[other.user].phone
        {
            return Err(Refusal::Forbidden(Forbidden::TransferNotAllowed));
        }
        let existing = call.person_of(target);
        if existing.is_some_and(|j| active(&call.people[j].state)) {
            return Err(Refusal::InvalidState);
        }
        if self.busy(target, Some(c)) {
            return Err(Refusal::Busy(user_name(target)));
        }
        if self.online_devices(target).is_empty() {
            return Err(Refusal::Unavailable(user_name(target)));
        }
        let fresh = self.invitation(target, &[], &[]);
        let call = &mut self.calls[c];
        let j = match existing {
            Some(j) => {
                call.people[j] = fresh;
                j
            }
            None => {
                call.people.push(fresh);
                call.people.len() - 1
            }
        };
        let waiting = P::Transferring {
            to: user_id(target),
        };
        call.people[i].state = waiting.clone();
        call.transfer = Some((i, j));
        let id = call.id;
        let event = Event::Participant {
            call: id,
            user: user_id(by.user),
            state: waiting,
        };
        self.tell_session(c, event, None);
        let info = self.calls[c].info(Some(by.user));
        for d in self.calls[c].people[j].ringing.clone() {
            self.tell(d, Event::Incoming { info: info.clone() });
        }
        Ok(Outcome::Done)
    }

    pub(super) fn transfer_succeeded(&mut self, c: usize) {
        let (from, to) = self.calls[c].transfer.take().expect("a transfer");
        let id = self.calls[c].id;
        let target = user_id(self.calls[c].people[to].user);
        let p = &mut self.calls[c].people[from];
        let seat = p.seat;
        p.state = P::Transferred;
        p.clear_session();
        let user = user_id(p.user);
        if let Some(d) = seat {
            let result = Event::TransferResult {
                call: id,
                target,
                outcome: TransferOutcome::Succeeded,
            };
            self.tell(d, result);
            let detached = Event::Detached {
                call: id,
                reason: DetachReason::Transferred,
            };
            self.tell(d, detached);
        }
        let event = Event::Participant {
            call: id,
            user,
            state: P::Transferred,
        };
        self.tell_session(c, event, None);
    }

    pub(super) fn transfer_failed(&mut self, c: usize, code: u16) {
        let (from, to) = self.calls[c].transfer.take().expect("a transfer");
        self.tell_transfer_failed(c, from, to, code);
        self.end(c, EndReason::TransferFailed { code });
    }

    pub(super) fn tell_transfer_failed(&mut self, c: usize, from: usize, to: usize, code: u16) {
        let id = self.calls[c].id;
        if let Some(d) = self.calls[c].people[from].seat {
            let target = user_id(self.calls[c].people[to].user);
            let event = Event::TransferResult {
                call: id,
                target,
                outcome: TransferOutcome::Failed { code },
            };
            self.tell(d, event);
        }
    }

    /// Time passes; each invitation whose ring timeout falls due is missed, in deadline order
    /// (ties by call, then by invitation order), each at its own instant.
    /// When each pending invitation of a live call times out.
    fn ring_deadlines(&self) -> impl Iterator<Item = u64> + '_ {
        self.calls.iter().filter(|c| c.live()).flat_map(|c| {
            c.people
                .iter()
                .filter(|p| pending(&p.state))
                .filter_map(|p| p.rings_until)
        })
    }

    /// Is an invitation ringing, with a deadline ahead?
    pub fn rings(&self) -> bool {
        self.ring_deadlines().next().is_some()
    }

    /// Is an invitation due to time out at exactly `at_ms`?
    pub fn due_at(&self, at_ms: u64) -> bool {
        self.ring_deadlines().any(|t| t == at_ms)
    }

    pub(super) fn advance(&mut self, ms: u64) {
        let until = self.now + ms;
        loop {
            let due = self
                .calls
                .iter()
                .enumerate()
                .filter(|(_, call)| call.live())
                .flat_map(|(c, call)| {
                    call.people.iter().enumerate().filter_map(move |(i, p)| {
                        p.rings_until
                            .filter(|t| pending(&p.state) && *t <= until)
                            .map(|t| (t, c, i))
                    })
                })
                .min();
            let Some((t, c, i)) = due else { break };
            self.now = t;
            self.invitation_over(c, i, None, P::Missed);
        }
        self.now = until;
    }

    /// A device goes offline: it stops ringing (silently: it cannot be told), and a session it
    /// sits in loses its member. A transferor keeps waiting for its outcome.
    pub(super) fn offline(&mut self, d: Dev) {
        if !self.online.remove(&d) {
            return;
        }
        for c in 0..self.calls.len() {
            if !self.calls[c].live() {
                continue;
            }
            let Some(i) = self.calls[c].person_of(d.user) else {
                continue;
            };
            let p = &mut self.calls[c].people[i];
            p.ringing.remove(&d);
            if p.seat != Some(d) {
                continue;
            }
            let reason = EndReason::Disconnected {
                user: user_id(d.user),
            };
            match p.state {
                P::Calling => self.end(c, reason),
                P::Joined => self.leave(c, i, P::Disconnected, reason),
                _ => {}
            }
        }
    }

    /// A device comes back: it starts ringing for every invitation of its user still pending.
    pub(super) fn online_again(&mut self, d: Dev) {
        if !self.online.insert(d) {
            return;
        }
        for c in 0..self.calls.len() {
            let call = &self.calls[c];
            if !call.live() {
                continue;
            }
            let Some(i) = call.person_of(d.user) else {
                continue;
            };
            if !pending(&call.people[i].state) || call.people[i].ringing.contains(&d) {
                continue;
            }
            let transferred_by = call
                .transfer
                .filter(|(_, to)| *to == i)
                .map(|(from, _)| call.people[from].user);
            let info = call.info(transferred_by);
            self.calls[c].people[i].ringing.insert(d);
            self.tell(d, Event::Incoming { info });
        }
    }
}
