#!/usr/bin/env python3
"""callconf adapter template: callconf-driver/1 on stdin/stdout, a calling SDK underneath.

callconf starts this process, reads the hello it writes first, then sends one JSON command
per line on stdin (docs/driver-protocol.md); the adapter writes one JSON line per response
and per SDK event on stdout, logs to stderr only, and hosts every device of the run (one SDK
client per device name). The file has three parts; copy it and change the first two:

  PART 1  `WireDevice`, the "SDK": here a minimal client of callconf-wire/1, the protocol of
          the reference server `callconf serve` (docs/wire-protocol.md).
          >>> A VENDOR REPLACES THIS CLASS with thin calls into its own SDK. <<<
  PART 2  the glue a vendor ADAPTS: names and capabilities, the operations and their fields,
          the mapping of SDK codes onto canonical codes, the translation of SDK events into
          canonical events, and the automatic steps (driver-protocol.md §3.3).
  PART 3  `Adapter`, the driver protocol itself. A vendor normally keeps it as it is.

Run the suite against it:  callconf certify --adapter 'python3 adapters/python/adapter.py'
Needs Python 3.8+ and the `websockets` package (10.4 up to the latest release).
"""
import asyncio
import json
import logging
import os
import sys
import threading

import websockets

log = logging.getLogger("adapter")

# ============================ PART 1: the SDK (replace it) ============================


class SdkError(Exception):
    """The SDK refused or failed. `code` is the SDK's own code (any JSON value), `message` its text."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


class WireDevice:
    """One device signed in to `callconf serve` over callconf-wire/1.

    The interface the rest of the file uses, which your SDK wrapper must offer too:
    `await connect(...) -> device id`, `await request(op) -> reply`, `await fire(op)`,
    `await close()`, `connected`, `outgoing`, the callbacks `on_event` / `on_drop`, and call
    listeners by id: `add_listener(id, fn)` / `remove_listener(id) -> bool` (CometChat's
    `addCallListener` / `removeCallListener`), each called with every event until removed.
    """

    def __init__(self, on_event, on_drop):
        self.on_event = on_event  # async callable(event): every event, in the server's order
        self.on_drop = on_drop    # callable(reason): the connection went away by itself
        self.connected = False
        self.outgoing = set()     # ids of the calls this device placed (it is their caller)
        self._ws = None
        self._reader = None
        self._pending = {}        # wire request id -> (op name, future, or None for fire())
        self._next_id = 0
        self._send_lock = asyncio.Lock()
        self._listeners = {}      # listener id -> callable(event), in registration order

    def add_listener(self, listener_id, fn):
        """Register `fn` under `listener_id`; an id already registered is refused."""
        if listener_id in self._listeners:
            raise SdkError(400, f"a listener with id {listener_id!r} is already registered")
        if len(self._listeners) >= LISTENERS_MAX:
            raise SdkError(503, f"at most {LISTENERS_MAX} listeners per device")
        self._listeners[listener_id] = fn

    def remove_listener(self, listener_id):
        """Remove the listener; whether there was one. A removed listener gets nothing."""
        return self._listeners.pop(listener_id, None) is not None

    async def connect(self, url, user, label, token, timeout):
        """Connect, send the hello, wait for the welcome; return the device id."""
        try:
            return await asyncio.wait_for(self._sign_in(url, user, label, token), timeout)
        except Exception as e:  # refused by the server, timed out, connection refused, bad URL
            await self.close()
            if isinstance(e, SdkError):
                raise
            if isinstance(e, asyncio.TimeoutError):
                raise SdkError("timeout", f"no welcome within {timeout} s") from None
            raise SdkError("network", f"{type(e).__name__}: {e}") from None

    async def _sign_in(self, url, user, label, token):
        self._ws = await websockets.connect(url)
        await self._ws.send(json.dumps({"type": "hello", "protocol": "callconf-wire/1",
                                        "user": user, "device": label, "token": token}))
        msg = json.loads(await self._ws.recv())
        if msg.get("type") != "welcome":  # a refusal: an `error` (902, 903, ...), then a close
            raise SdkError(msg.get("code"), msg.get("message", "hello refused"))
        self.connected = True
        self._reader = asyncio.ensure_future(self._read_loop())
        return msg["device"]

    async def request(self, op, timeout):
        """Perform one operation; return its reply (`{"reply": ...}`) or raise SdkError."""
        fut = asyncio.get_running_loop().create_future()
        rid = await self._send(op, fut, timeout)
        try:
            result = await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            self._pending.pop(rid, None)
            raise SdkError("timeout", f"no reply within {timeout} s") from None
        if "Err" in result:
            raise SdkError(result["Err"]["code"], result["Err"]["message"])
        return result["Ok"]

    async def fire(self, op, timeout):
        """Send an operation without waiting for its reply (the automatic steps)."""
        await self._send(op, None, timeout)

    async def _send(self, op, fut, timeout):
        if not self.connected:
            raise SdkError("not_connected", "the device is not connected")
        self._next_id += 1
        rid = self._next_id
        self._pending[rid] = (op["op"], fut)
        try:
            async with self._send_lock:  # one frame at a time, in the order of the calls
                frame = json.dumps({"type": "request", "id": rid, "op": op})
                await asyncio.wait_for(self._ws.send(frame), timeout)
        except Exception as e:
            self._pending.pop(rid, None)
            raise SdkError("network", f"send failed: {type(e).__name__}: {e}") from None
        return rid

    async def _read_loop(self):
        """The only reader of the socket: replies resolve requests, events go to on_event."""
        code, reason = "disconnected", "the server closed the connection"
        try:
            while True:
                msg = json.loads(await self._ws.recv())
                kind = msg.get("type")
                if kind == "reply":
                    name, fut = self._pending.pop(msg["id"], (None, None))
                    result = msg["result"]
                    if name == "place" and "Ok" in result:  # known before any event of the call
                        self.outgoing.add(result["Ok"]["call"])
                    if fut is not None and not fut.done():
                        fut.set_result(result)
                    elif "Err" in result:
                        log.info("automatic %s refused: %s", name, result["Err"])
                elif kind == "event":
                    for fn in list(self._listeners.values()):
                        fn(msg["delivery"]["event"])
                    await self.on_event(msg["delivery"]["event"])
                elif kind == "error":  # a connection-level error; the close frame follows
                    code, reason = msg.get("code"), msg.get("message", "")
                else:
                    log.warning("unexpected message from the server: %s", msg)
        except asyncio.CancelledError:
            raise  # close() stopped us: not a drop
        except Exception as e:
            if code == "disconnected":
                reason = f"{reason} ({type(e).__name__}: {e})"
            self._fail_pending(code, reason)
            self.on_drop(f"{code}: {reason}")

    def _fail_pending(self, code, reason):
        self.connected = False
        for _, fut in self._pending.values():
            if fut is not None and not fut.done():
                fut.set_exception(SdkError(code, reason))
        self._pending.clear()

    async def close(self):
        """Disconnect (the device goes offline). Safe to call more than once."""
        self._fail_pending("closed", "the device was closed")
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._ws is not None:
            try:
                await asyncio.wait_for(self._ws.close(), 2.0)
            except Exception:
                pass
        self._reader = self._ws = None


# ======================= PART 2: the glue (adapt it to your SDK) =======================

ADAPTER = {"name": "callconf-python-adapter", "version": "0.1.0"}
SDK = {"name": "callconf-wire-python", "version": "1"}  # VENDOR: your SDK's name and version
TIMEOUT_S = 4.0   # every wait on the SDK; below callconf's default deadline of 5 s a command
MAX_DEVICES = 256
LISTENERS_MAX = 64            # call listeners per device
LISTENER_EVENTS_MAX = 4096    # events one listener keeps between two takes

# The canonical operations this adapter performs (wire-protocol.md §3.2): required fields,
# optional fields. VENDOR: keep only what your SDK can do; the rest become "unimplemented".
OP_FIELDS = {
    "place": ("invitees call_type", "group alert custom_data headers"),
    "ringing": ("call", "headers"), "accept": ("call", "headers"),
    "decline": ("call", "code headers"),
    "cancel": ("call", ""), "hangup": ("call", "headers"), "end_for_all": ("call", ""),
    "join": ("call", ""), "invite": ("call users", ""), "start_session": ("call", ""),
    "hold": ("call on_hold", ""), "mute": ("call media muted", ""),
    "dtmf": ("call digits", ""), "info": ("call mime body", "headers"),
    "message": ("call text", ""), "custom_data": ("call data", ""),
    "early_media": ("call", "headers"), "transfer": ("call target", ""),
    "signal": ("call kind body", "to"), "get_call": ("call", ""),
}

CAPABILITIES = {
    "operations": list(OP_FIELDS),
    "provisioning": "server",   # devices get their token from callconf in device.open
    "clock": "server",          # callconf drives `callconf serve --clock manual`
    "max_devices": MAX_DEVICES,
    "automatic": ["ringing", "start_session"],  # the automatic steps we can switch off
    "listeners": True,          # device.listener: call listeners by id (driver-protocol.md §3.4)
}


def canonical_code(vendor_code):
    """VENDOR: map your SDK's code onto a canonical code (wire-protocol.md §3.2, 400-503).

    Return None when the code has no canonical meaning: the response is then 1004, and the
    original code and text travel in `vendor` either way.
    """
    if isinstance(vendor_code, int) and 400 <= vendor_code <= 503:
        return vendor_code  # the wire protocol's codes already are the canonical ones
    return {"not_connected": 401}.get(vendor_code)  # e.g. {"BUSY_HERE": 486, ...}


def canonical_event(sdk_event):
    """VENDOR: translate one SDK event into a canonical event (wire-protocol.md §3.3), e.g.
    {"event": "ended", "call": 1, "reason": {"hung_up": {"by": "bob"}}}. None drops it."""
    return sdk_event  # the wire client's events already are canonical


async def after_event(slot, client, event):
    """Automatic steps caused by an event (driver-protocol.md §3.3). VENDOR: if your SDK does a
    step by itself, delete it here and switch it off in the SDK when slot.auto says False."""
    kind, call = event.get("event"), event.get("call")
    if kind == "incoming" and slot.auto["ringing"]:
        await client.fire({"op": "ringing", "call": event["info"]["call"]}, TIMEOUT_S)
    elif (kind == "participant" and event.get("state") == "joined" and slot.auto["start_session"]
          and event.get("user") != slot.user and call in client.outgoing
          and call not in slot.sessions):  # the caller, on the first other member's join
        slot.sessions.add(call)
        await client.fire({"op": "start_session", "call": call}, TIMEOUT_S)


async def after_reply(slot, client, op, reply):
    """Automatic steps caused by a successful operation: start_session after accept/join."""
    call = op.get("call")
    if op["op"] == "start_session":
        slot.sessions.add(call)
    elif op["op"] in ("accept", "join") and slot.auto["start_session"] and call not in slot.sessions:
        slot.sessions.add(call)
        await client.fire({"op": "start_session", "call": call}, TIMEOUT_S)


# ==================== PART 3: the driver protocol (keep it as it is) ====================


class Fail(Exception):
    """An error response: canonical `code`, `message`, and the SDK's `vendor` code and text."""

    def __init__(self, code, message, vendor=None):
        super().__init__(message)
        self.code, self.message, self.vendor = code, message, vendor

    @staticmethod
    def of(e):
        code = canonical_code(e.code)
        return Fail(1004 if code is None else code, e.message, {"code": e.code, "message": e.message})


class Slot:
    """What the adapter keeps per device name (`alice/laptop`)."""

    def __init__(self, name):
        self.name, self.user = name, None
        self.client = None     # the SDK client while the device is open
        self.seq = 0           # the last event seq sent since this name's last device.open
        self.auto = {"ringing": True, "start_session": True}
        self.sessions = set()  # calls this device has sent start_session for
        self.lock = asyncio.Lock()  # one command at a time per device, in arrival order
        self.heard = {}        # listener id -> canonical events it got since the last take
        self.overflowed = set()  # listener ids that got more than LISTENER_EVENTS_MAX


def need(params, *fields, kind=str):
    for f in fields:
        if not isinstance(params.get(f), kind):
            raise Fail(1000, f"missing or invalid field {f!r}")


class Adapter:
    def __init__(self):
        self.slots = {}
        self.lines = asyncio.Queue()
        self.methods = {"device.open": self.device_open, "device.close": self.device_close,
                        "device.op": self.device_op, "device.listener": self.device_listener,
                        "session.reset": self.session_reset,
                        "session.end": self.session_end}

    def write(self, msg):
        try:
            sys.stdout.write(json.dumps(msg, separators=(",", ":")) + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):  # callconf is gone
            os._exit(1)

    async def run(self):
        loop, tasks = asyncio.get_running_loop(), set()

        def read_stdin():  # a thread, so that any kind of stdin works; splits lines itself
            buf = b""
            while True:
                chunk = os.read(0, 65536)
                if not chunk:
                    break
                *lines, buf = (buf + chunk).split(b"\n")
                for line in lines:
                    loop.call_soon_threadsafe(self.lines.put_nowait, line)
            loop.call_soon_threadsafe(self.lines.put_nowait, None)  # callconf closed our stdin

        threading.Thread(target=read_stdin, daemon=True).start()
        self.write({"type": "hello", "protocol": "callconf-driver/1", "adapter": ADAPTER,
                    "sdk": SDK, "capabilities": CAPABILITIES})
        while True:
            line = await self.lines.get()
            cmd = self.parse(line) if line is not None and line.strip() else None
            if line is None or (cmd and cmd["method"].startswith("session.")):
                if tasks:  # a barrier: first every command before it (each has a deadline)
                    await asyncio.wait(tasks)
                if line is None:
                    break
                await self.handle(cmd)
                if cmd["method"] == "session.end":
                    break
            elif cmd:  # device commands run concurrently (one at a time per device)
                task = asyncio.ensure_future(self.handle(cmd))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        await self.close_all()

    def parse(self, line):
        """The command in a line, or None after answering it with 1000."""
        try:
            cmd = json.loads(line)
        except ValueError:
            return self.error(None, 1000, "not a JSON line")
        if not isinstance(cmd, dict) or "id" not in cmd or not isinstance(cmd.get("method"), str):
            return self.error(cmd.get("id") if isinstance(cmd, dict) else None, 1000,
                              "a command needs an id and a method")
        return cmd

    async def handle(self, cmd):
        """Answer one command, exactly once."""
        cid, params = cmd["id"], cmd.get("params", {})
        handler = self.methods.get(cmd["method"])
        if handler is None:
            return self.error(cid, 1001, f"unknown method {cmd['method']!r}")
        try:
            if not isinstance(params, dict):
                raise Fail(1000, "params must be an object")
            result = await handler(params)
        except Fail as f:
            return self.error(cid, f.code, f.message, f.vendor)
        except Exception as e:  # a bug in the adapter or the SDK: still answer once
            log.exception("command %s failed", cid)
            return self.error(cid, 1004, "the adapter failed", {"code": type(e).__name__, "message": str(e)})
        self.write({"id": cid, "type": "success", "result": result})

    def error(self, cid, code, message, vendor=None):
        self.write({"id": cid, "type": "error", "code": code, "message": message, "vendor": vendor})

    def slot(self, params):
        need(params, "device")
        if params["device"] not in self.slots:
            raise Fail(1003, f"unknown device {params['device']!r}")
        return self.slots[params["device"]]

    async def device_open(self, p):
        need(p, "device", "user", "label", "server")
        need(p, "credentials", kind=dict)
        need(p["credentials"], "token")
        auto = p.get("automatic") or {}
        if not isinstance(auto, dict):
            raise Fail(1000, "automatic must be an object")
        name = p["device"]
        slot = self.slots.get(name)
        if slot is None:
            if sum(s.client is not None for s in self.slots.values()) >= MAX_DEVICES:
                raise Fail(1004, f"this adapter holds at most {MAX_DEVICES} devices")
            slot = self.slots[name] = Slot(name)
        async with slot.lock:
            if slot.client is not None and slot.client.connected:
                raise Fail(1000, f"device {name!r} is already open")
            if slot.client is not None:  # it dropped on its own: replace it
                await slot.client.close()
            # Each open starts the name's events at seq 1 again (driver-protocol.md §2).
            slot.user, slot.sessions, slot.seq = p["user"], set(), 0
            slot.auto = {k: bool(auto.get(k, True)) for k in ("ringing", "start_session")}
            client = WireDevice(None, lambda why: log.warning("device %s dropped: %s", name, why))
            client.on_event = lambda ev: self.on_sdk_event(slot, client, ev)
            slot.client = client  # before connect: events may follow the welcome at once
            try:
                device_id = await client.connect(p["server"], p["user"], p["label"],
                                                 p["credentials"]["token"], TIMEOUT_S)
            except SdkError as e:
                slot.client = None
                raise Fail.of(e) from None
            log.info("device %s open: id %s", name, device_id)
            return {"device_id": device_id} if device_id is not None else {}

    async def device_close(self, p):
        slot = self.slot(p)
        async with slot.lock:
            client, slot.client = slot.client, None
            if client is not None:
                await client.close()
        return {}

    async def device_op(self, p):
        slot, op = self.slot(p), p.get("op")
        if not isinstance(op, dict) or not isinstance(op.get("op"), str):
            raise Fail(1000, "op must be an object with a string field 'op'")
        if op["op"] not in OP_FIELDS:
            raise Fail(1002, f"unsupported operation {op['op']!r}")
        required, optional = (s.split() for s in OP_FIELDS[op["op"]])
        missing = [f for f in required if f not in op]
        unknown = [f for f in op if f != "op" and f not in required + optional]
        if missing or unknown:  # the server would close the connection on an unknown field
            raise Fail(1000, f"op {op['op']!r}: missing {missing}, unknown {unknown}")
        async with slot.lock:
            client = slot.client
            if client is None or not client.connected:
                raise Fail.of(SdkError("not_connected", "the device is not connected"))
            try:
                reply = await client.request(op, TIMEOUT_S)
            except SdkError as e:
                raise Fail.of(e) from None
            try:  # before answering, so that the next command comes after the automatic step
                await after_reply(slot, client, op, reply)
            except SdkError as e:
                log.warning("automatic step on %s failed: %s %s", slot.name, e.code, e.message)
            return {"reply": reply}

    async def device_listener(self, p):
        """device.listener: add or remove a call listener of the device's SDK by id, or take
        what it got. A removed listener keeps its log, so anything the SDK still hands it shows."""
        slot = self.slot(p)
        need(p, "listener", "action")
        lid, action = p["listener"], p["action"]
        async with slot.lock:
            if action == "take":
                if lid not in slot.heard:
                    raise Fail(404, f"no listener with id {lid!r}")
                events, slot.heard[lid] = slot.heard[lid], []
                if lid in slot.overflowed:
                    slot.overflowed.discard(lid)
                    raise Fail(1004, f"listener {lid!r} got over {LISTENER_EVENTS_MAX} events")
                return {"events": events}
            if action not in ("add", "remove"):
                raise Fail(1000, f"unknown listener action {action!r}")
            client = slot.client
            if client is None:
                raise Fail.of(SdkError("not_connected", "the device is not connected"))
            if action == "remove":
                return {"removed": client.remove_listener(lid)}

            def heard(sdk_event):
                event = canonical_event(sdk_event)
                if event is None:
                    return
                got = slot.heard.setdefault(lid, [])
                if len(got) < LISTENER_EVENTS_MAX:
                    got.append(event)
                else:
                    slot.overflowed.add(lid)
            try:
                client.add_listener(lid, heard)
            except SdkError as e:
                raise Fail.of(e) from None
            slot.heard.setdefault(lid, [])
            return {}

    async def on_sdk_event(self, slot, client, sdk_event):
        """An event raised by a device's SDK client: forward it with the next seq, then run
        the automatic steps it causes."""
        if slot.client is not client:  # a client that was closed or replaced
            return
        event = canonical_event(sdk_event)
        if event is None:
            return
        slot.seq += 1
        self.write({"type": "event", "device": slot.name, "seq": slot.seq, "event": event})
        try:
            await after_event(slot, client, event)
        except SdkError as e:
            log.warning("automatic step on %s failed: %s %s", slot.name, e.code, e.message)

    async def close_all(self):
        clients = [s.client for s in self.slots.values() if s.client is not None]
        for s in self.slots.values():
            s.client = None
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

    async def session_reset(self, p):
        await self.close_all()
        self.slots.clear()
        return {}

    async def session_end(self, p):  # run() exits after the answer
        await self.close_all()
        return {}


def main():
    logging.basicConfig(stream=sys.stderr, level=os.environ.get("ADAPTER_LOG", "INFO"),
                        format="%(asctime)s adapter %(levelname)s %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)
    asyncio.run(Adapter().run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
