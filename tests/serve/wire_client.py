#!/usr/bin/env python3
"""A `callconf-wire/1` client written from docs/wire-protocol.md alone.

Usage: wire_client.py DEVICE_URL ADMIN_URL ADMIN_TOKEN

Run it against

    callconf serve --clock manual --population fixtures/serve/two_users.yaml \
        --admin-token-file F

(users alice/laptop, bob/phone, carol/phone with tokens `<user>-secret`).  It proves that the
document is enough to drive the server: the device handshake (§3.1), requests and replies
(§3.2), events and their ordering guarantees (§3.3, §3.4), a whole audio 1:1 call from
`place` to `ended`, the documented refusals (902 wrong token, 901 wrong protocol, 900 unknown
op, 410 on an ended call) and the admin channel (`status`, `trace`, `advance`, §5).

Every receive has a 5 s deadline.  It prints one line per step and exits 0 only if every frame
matched the document; otherwise it prints what it expected and what it got and exits 1.

Only the standard library and `websockets.connect(url)` / `send` / `recv` are used, so it runs
with Debian 12's python3-websockets 10.4 as well as the latest websockets.
"""
import asyncio
import contextlib
import json
import sys

import websockets

PROTOCOL = "callconf-wire/1"
DEADLINE_S = 5.0
# §3.3: the fields of an invitation's `info`.
INFO_FIELDS = {"call", "call_type", "group", "caller", "invitees", "status", "created_ms",
               "custom_data", "headers", "transferred_by"}
INFO_REQUIRED = {"call", "call_type", "caller", "invitees", "status", "created_ms"}
DONE = {"reply": "done"}


class Mismatch(Exception):
    """The server's frames disagree with the document."""


def check(condition, what):
    if not condition:
        raise Mismatch(what)


def event_call(event):
    """The call an event is about (`incoming`/`notified` carry it inside `info`)."""
    if event.get("event") in ("incoming", "notified"):
        return event.get("info", {}).get("call")
    return event.get("call")


class Conn:
    """One WebSocket connection, with the frames received but not yet looked at."""

    def __init__(self, ws, name):
        self.ws, self.name = ws, name
        self.buffer = []          # decoded frames in arrival order, not yet consumed
        self.device = None        # our device id, from the welcome
        self.closed_calls = set()  # calls we got a closing event for (§3.4 rule 4)
        self.next_id = 100

    async def send(self, obj):
        await self.ws.send(json.dumps(obj))

    async def _receive(self, timeout):
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        check(isinstance(raw, str), f"{self.name}: got a binary frame; §1 says text frames only")
        msg = json.loads(raw)
        check(isinstance(msg, dict) and "type" in msg,
              f"{self.name}: frame without \"type\" (§1): {raw}")
        if msg["type"] == "event" and self.device is not None:
            delivery = msg.get("delivery", {})
            check(delivery.get("device") == self.device and isinstance(delivery.get("at_ms"), int),
                  f"{self.name}: delivery not for device {self.device} with integer at_ms: {raw}")
            event = delivery.get("event", {})
            call = event_call(event)
            check(call not in self.closed_calls,
                  f"{self.name}: event after the closing event of call {call} (§3.4 rule 4): {raw}")
            if event.get("event") in ("ended", "detached"):
                self.closed_calls.add(call)
        self.buffer.append(msg)

    async def expect(self, matches, what):
        """Remove and return the first frame (buffered or new) for which `matches` is true."""
        loop = asyncio.get_running_loop()
        end = loop.time() + DEADLINE_S
        while True:
            for i, msg in enumerate(self.buffer):
                if matches(msg):
                    return self.buffer.pop(i)
            left = end - loop.time()
            try:
                if left <= 0:
                    raise asyncio.TimeoutError
                await self._receive(left)
            except asyncio.TimeoutError:
                raise Mismatch(f"{self.name}: no {what} within {DEADLINE_S:.0f} s; "
                               f"unmatched frames: {self.buffer}") from None
            except Mismatch:
                raise
            except Exception as e:  # the connection closed (ConnectionClosed*) or bad JSON
                raise Mismatch(f"{self.name}: {type(e).__name__} while waiting for {what}: {e}; "
                               f"unmatched frames: {self.buffer}") from None

    async def event(self, what, **fields):
        """Wait for an event whose `event` object has (at least) these fields."""
        def matches(msg):
            event = msg.get("delivery", {}).get("event", {})
            return msg["type"] == "event" and all(event.get(k) == v for k, v in fields.items())
        return (await self.expect(matches, what))["delivery"]["event"]

    async def request(self, op):
        """Send a request and return its reply's `result` ({"Ok": …} or {"Err": …})."""
        self.next_id += 1
        rid = self.next_id
        await self.send({"type": "request", "id": rid, "op": op})
        reply = await self.expect(lambda m: m["type"] == "reply" and m.get("id") == rid,
                                  f"reply to request {rid} ({op['op']})")
        check(set(reply) == {"type", "id", "result"}, f"{self.name}: reply fields: {reply}")
        return reply["result"]

    async def ok(self, op, expected=None):
        result = await self.request(op)
        check("Ok" in result, f"{self.name}: {op} was refused: {result}")
        if expected is not None:
            check(result["Ok"] == expected,
                  f"{self.name}: {op['op']} replied {result['Ok']}, expected {expected}")
        return result["Ok"]

    async def expect_closed(self):
        """§3.1/§3.5: after an `error` message the server sends a close frame."""
        try:
            msg = await asyncio.wait_for(self.ws.recv(), DEADLINE_S)
        except asyncio.TimeoutError:
            raise Mismatch(f"{self.name}: connection still open {DEADLINE_S:.0f} s after the error")
        except Exception:  # ConnectionClosedOK / ConnectionClosedError: what we want
            return
        raise Mismatch(f"{self.name}: expected the connection to close, got {msg}")


async def open_conn(stack, url, name):
    return Conn(await stack.enter_async_context(websockets.connect(url)), name)


def device_hello(user, device, token, protocol=PROTOCOL):
    return {"type": "hello", "protocol": protocol, "user": user, "device": device, "token": token}


async def login(stack, url, user, device, token):
    conn = await open_conn(stack, url, f"{user}/{device}")
    await conn.send(device_hello(user, device, token))
    welcome = await conn.expect(lambda m: True, "welcome")
    check(welcome.get("type") == "welcome" and welcome.get("protocol") == PROTOCOL
          and isinstance(welcome.get("device"), int) and not isinstance(welcome["device"], bool)
          and set(welcome) == {"type", "protocol", "device"},
          f"{conn.name}: expected {{\"type\":\"welcome\",\"protocol\":\"{PROTOCOL}\","
          f"\"device\":<int>}}, got {welcome}")
    conn.device = welcome["device"]
    return conn


async def expect_error(conn, code, what):
    """An `error` message with `code`, then the connection is closed."""
    msg = await conn.expect(lambda m: True, f"error {code} ({what})")
    check(msg.get("type") == "error" and msg.get("code") == code,
          f"{conn.name}: {what}: expected an error message with code {code}, got {msg}")
    await conn.expect_closed()
    return msg


async def run(device_url, admin_url, admin_token):
    async with contextlib.AsyncExitStack() as stack:
        # a. Handshake (§3.1).
        alice = await login(stack, device_url, "alice", "laptop", "alice-secret")
        bob = await login(stack, device_url, "bob", "phone", "bob-secret")
        check(alice.device != bob.device, "alice and bob got the same device id")
        print(f"a. welcome: alice/laptop is device {alice.device}, bob/phone is device {bob.device}")

        # b. alice places an audio 1:1 call to bob (§3.2).
        placed = await alice.ok({"op": "place", "invitees": ["bob"], "call_type": "audio"})
        check(placed.get("reply") == "placed" and isinstance(placed.get("call"), int)
              and placed.get("busy") == [] and placed.get("unavailable") == [],
              f"place: expected {{\"reply\":\"placed\",\"call\":N,\"busy\":[],\"unavailable\":[]}},"
              f" got {placed}")
        call = placed["call"]
        check(call == 1, f"first call id is {call}; §2 says call ids count from 1")
        early = [m for m in alice.buffer if m["type"] == "event"
                 and event_call(m["delivery"]["event"]) == call]
        check(not early, f"alice got events about call {call} before `placed` (§3.4 rule 2): {early}")
        print(f"b. alice placed call {call} to bob: {json.dumps(placed)}")

        # c. bob's invitation rings; alice sees it ringing (§3.3; order between the two events
        #    is not promised, so collect both).
        incoming = await bob.event("incoming", event="incoming")
        info = incoming.get("info", {})
        check(INFO_REQUIRED <= set(info) <= INFO_FIELDS,
              f"incoming info fields {sorted(info)}; §3.3 lists {sorted(INFO_FIELDS)}")
        check(info["call"] == call and info["caller"] == "alice" and info["call_type"] == "audio"
              and info["invitees"] == ["bob"], f"incoming info: {info}")
        await bob.ok({"op": "ringing", "call": call}, DONE)
        await alice.event("participant bob ringing", event="participant", call=call,
                          user="bob", state="ringing")
        await alice.event("status ringing", event="status", call=call, status="ringing")
        print(f"c. bob got incoming {json.dumps(info)}; ringing -> done; "
              "alice saw participant bob ringing and status ringing")

        # d. bob accepts, both start their media sessions, the call connects.
        await bob.ok({"op": "accept", "call": call}, DONE)
        await alice.event("participant bob joined", event="participant", call=call,
                          user="bob", state="joined")
        await bob.ok({"op": "start_session", "call": call}, DONE)
        await alice.ok({"op": "start_session", "call": call}, DONE)
        await alice.event("status connected", event="status", call=call, status="connected")
        await bob.event("status connected", event="status", call=call, status="connected")
        print("d. bob accepted; alice saw bob joined; after both start_session "
              "alice and bob saw status connected")

        # e. bob hangs up; `ended` is call-wide, so both get it (§3.4 rule 5).
        await bob.ok({"op": "hangup", "call": call}, DONE)
        reason = {"hung_up": {"by": "bob"}}
        await alice.event("ended hung_up by bob", event="ended", call=call, reason=reason)
        await bob.event("ended hung_up by bob", event="ended", call=call, reason=reason)
        print(f"e. bob hung up; alice and bob saw ended {json.dumps(reason)}")

        # f. Refusals.
        wrong = await open_conn(stack, device_url, "carol (wrong token)")
        await wrong.send(device_hello("carol", "phone", "not-carols-secret"))
        e902 = await expect_error(wrong, 902, "wrong token")
        check("not-carols-secret" not in json.dumps(e902), "the 902 message echoes the token")
        old = await open_conn(stack, device_url, "carol (callconf-wire/0)")
        await old.send(device_hello("carol", "phone", "carol-secret", protocol="callconf-wire/0"))
        await expect_error(old, 901, "protocol callconf-wire/0")
        carol = await login(stack, device_url, "carol", "phone", "carol-secret")
        await carol.send({"type": "request", "id": 1, "op": {"op": "no_such_op", "call": call}})
        await expect_error(carol, 900, "unknown op")
        late = await bob.request({"op": "accept", "call": call})
        check(late.get("Err", {}).get("code") == 410,
              f"accept on the ended call: expected {{\"Err\":{{\"code\":410,…}}}}, got {late}")
        print(f"f. refusals: wrong token 902, callconf-wire/0 901, unknown op 900 (closed), "
              f"accept on ended call {json.dumps(late)}")

        # g. The admin channel (§5).
        admin = await open_conn(stack, admin_url, "admin")
        await admin.send({"type": "hello", "protocol": PROTOCOL, "token": admin_token})
        welcome = await admin.expect(lambda m: True, "admin welcome")
        check(welcome == {"type": "welcome", "protocol": PROTOCOL, "clock": "manual"},
              f"admin welcome: {welcome}")
        status = await admin.ok({"op": "status"})
        check(status.get("reply") == "status" and status.get("users") == 3
              and status.get("devices") == 3 and status.get("clock") == "manual"
              and status.get("now_ms") == 0 and status.get("live_calls") == 0,
              f"status: expected 3 users, 3 devices, clock manual, now_ms 0, no live call; "
              f"got {status}")
        trace = await admin.ok({"op": "trace"})
        check(trace.get("reply") == "trace" and isinstance(trace.get("entries"), list),
              f"trace reply: {trace}")
        entries = trace["entries"]
        placing = [e for e in entries if e.get("kind") == "request"
                   and e.get("device") == alice.device and e.get("op", {}).get("op") == "place"]
        check(len(placing) == 1 and placing[0]["op"].get("invitees") == ["bob"]
              and placing[0].get("result", {}).get("Ok", {}).get("call") == call,
              f"trace: expected one place request by alice for call {call}; got {placing}")
        tokens = ("alice-secret", "bob-secret", "carol-secret")
        check(not any(t in json.dumps(entries) for t in tokens), "a token is in the trace (§8)")
        connects = [e for e in entries if e.get("kind") == "connected"
                    and e.get("device") == carol.device]
        check(len(connects) == 1,
              f"trace: carol connected {len(connects)} times; refused hellos leave no trace")
        advanced = await admin.ok({"op": "advance", "ms": 1000})
        check(advanced.get("reply") == "advanced" and advanced.get("now_ms") == 1000
              and isinstance(advanced.get("fired"), list), f"advance 1000: {advanced}")
        print(f"g. admin: status {json.dumps(status)}; trace has {len(entries)} entries "
              f"incl. alice's place; advance 1000 -> now_ms {advanced['now_ms']}")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    try:
        asyncio.run(run(*sys.argv[1:]))
    except Mismatch as e:
        print(f"FAIL: {e}")
        sys.exit(1)
    except Exception as e:  # e.g. connection refused
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("PASS: the server matched docs/wire-protocol.md")


if __name__ == "__main__":
    main()
