// callconf web adapter: callconf-driver/1 over a WebSocket the page dials, a calling SDK
// underneath. The browser twin of adapters/python/adapter.py, in plain JavaScript (no build
// step, no modules: it loads from file://).
//
// callconf starts headless Chromium at index.html#driver=URL. This script dials URL, writes
// its hello, then gets one JSON command per text frame and sends one JSON frame per response
// and per SDK event (docs/driver-protocol.md). It hosts every device of the run: one SDK
// client per device name. Its log is the console (callconf keeps the tail for the report).
//
//   PART 1  `WireDevice`, the "SDK": a minimal client of callconf-wire/1, the protocol of the
//           reference server `callconf serve` (docs/wire-protocol.md).
//           >>> A VENDOR REPLACES THIS CLASS with thin calls into its own SDK. <<<
//   PART 2  the glue a vendor ADAPTS: names and capabilities, the operations and their
//           fields, SDK codes onto canonical codes, SDK events into canonical events, and the
//           automatic steps (driver-protocol.md §3.3).
//   PART 3  `Adapter`, the driver protocol itself. A vendor normally keeps it as it is.
"use strict";

// ============================ PART 1: the SDK (replace it) ============================

class SdkError extends Error {
  // The SDK refused or failed: `code` is the SDK's own code (any JSON value).
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// Resolves with `promise`, or rejects with an SdkError("timeout") after `ms`.
function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new SdkError("timeout", `${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// One device signed in to `callconf serve` over callconf-wire/1. The interface the rest of
// the file uses, which a vendor's wrapper must offer too: `await connect(...) -> device id`,
// `await request(op, ms) -> reply`, `fire(op)`, `close()`, `connected`, `outgoing`, the
// callbacks `onEvent(event)` / `onDrop(reason)`, and call listeners by id: `addListener(id, fn)`
// / `removeListener(id) -> bool` (CometChat's `addCallListener` / `removeCallListener`), each
// called with every event until removed.
class WireDevice {
  constructor(onEvent, onDrop) {
    this.onEvent = onEvent; // every event, in the server's order
    this.onDrop = onDrop; // the connection went away by itself
    this.connected = false;
    this.outgoing = new Set(); // ids of the calls this device placed
    this.ws = null;
    this.pending = new Map(); // wire request id -> {name, resolve, reject} (none for fire())
    this.nextId = 0;
    this.listeners = new Map(); // listener id -> fn(event), in registration order
  }

  // Registers `fn` under `id`; an id already registered is refused.
  addListener(id, fn) {
    if (this.listeners.has(id)) {
      throw new SdkError(400, `a listener with id ${JSON.stringify(id)} is already registered`);
    }
    if (this.listeners.size >= LISTENERS_MAX) {
      throw new SdkError(503, `at most ${LISTENERS_MAX} listeners per device`);
    }
    this.listeners.set(id, fn);
  }

  // Removes the listener; whether there was one. A removed listener gets nothing.
  removeListener(id) {
    return this.listeners.delete(id);
  }

  // Connects, sends the hello, waits for the welcome; resolves with the device id.
  connect(url, user, label, token, ms) {
    const signIn = new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(url);
      } catch (e) {
        reject(new SdkError("network", `cannot connect to ${url}: ${e}`));
        return;
      }
      this.ws = ws;
      ws.onopen = () => {
        ws.send(JSON.stringify({ type: "hello", protocol: "callconf-wire/1", user, device: label, token }));
      };
      ws.onmessage = (m) => {
        const msg = JSON.parse(m.data);
        if (msg.type !== "welcome") {
          // A refusal: an `error` (902, 903, ...), then a close.
          reject(new SdkError(msg.code, msg.message || "hello refused"));
          return;
        }
        this.connected = true;
        ws.onmessage = (frame) => this.onFrame(frame.data);
        resolve(msg.device);
      };
      ws.onclose = (e) => {
        if (!this.connected) {
          reject(new SdkError("network", `the server closed the connection (${e.code} ${e.reason})`));
          return;
        }
        this.failPending("disconnected", `the server closed the connection (${e.code} ${e.reason})`);
        if (this.onDrop) this.onDrop(`disconnected: ${e.code} ${e.reason}`);
      };
    });
    return within(signIn, ms, "welcome").catch((e) => {
      this.close();
      throw e instanceof SdkError ? e : new SdkError("network", String(e));
    });
  }

  // The only reader of the socket once signed in: replies settle requests, events go on.
  onFrame(text) {
    const msg = JSON.parse(text);
    if (msg.type === "reply") {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (p && p.name === "place" && "Ok" in msg.result) {
        this.outgoing.add(msg.result.Ok.call); // known before any event of the call
      }
      if (p && p.resolve) {
        p.resolve(msg.result);
      } else if ("Err" in msg.result) {
        console.info(`automatic ${p ? p.name : "?"} refused: ${JSON.stringify(msg.result.Err)}`);
      }
    } else if (msg.type === "event") {
      for (const fn of [...this.listeners.values()]) fn(msg.delivery.event);
      if (this.onEvent) this.onEvent(msg.delivery.event);
    } else if (msg.type === "error") {
      console.warn(`connection error from the server: ${msg.code} ${msg.message}`);
    } else {
      console.warn(`unexpected message from the server: ${text}`);
    }
  }

  // Performs one operation; resolves with its reply ({"reply": ...}) or rejects (SdkError).
  async request(op, ms) {
    const result = await within(
      new Promise((resolve, reject) => this.send(op, { name: op.op, resolve, reject })),
      ms,
      `reply to ${op.op}`,
    );
    if ("Err" in result) throw new SdkError(result.Err.code, result.Err.message);
    return result.Ok;
  }

  // Sends an operation without waiting for its reply (the automatic steps).
  fire(op) {
    this.send(op, { name: op.op, resolve: null, reject: null });
  }

  send(op, pending) {
    if (!this.connected) throw new SdkError("not_connected", "the device is not connected");
    this.nextId += 1;
    this.pending.set(this.nextId, pending);
    this.ws.send(JSON.stringify({ type: "request", id: this.nextId, op }));
  }

  failPending(code, reason) {
    this.connected = false;
    for (const p of this.pending.values()) {
      if (p.reject) p.reject(new SdkError(code, reason));
    }
    this.pending.clear();
  }

  // Disconnects (the device goes offline); no callback fires after it. Safe to repeat.
  close() {
    this.failPending("closed", "the device was closed");
    this.onEvent = this.onDrop = null;
    if (this.ws) {
      this.ws.onmessage = this.ws.onclose = null;
      this.ws.close();
      this.ws = null;
    }
  }
}

// ======================= PART 2: the glue (adapt it to your SDK) =======================

const ADAPTER = { name: "callconf-web-adapter", version: "0.1.0" };
const SDK = { name: "callconf-wire-js", version: "1" }; // VENDOR: your SDK's name and version
const TIMEOUT_MS = 4000; // every wait on the SDK; below callconf's default deadline of 5 s
const MAX_DEVICES = 256;
const LISTENERS_MAX = 64; // call listeners per device
const LISTENER_EVENTS_MAX = 4096; // events one listener keeps between two takes

// The canonical operations this adapter performs (wire-protocol.md §3.2): required fields,
// optional fields. VENDOR: keep only what your SDK can do; the rest become "unimplemented".
const OP_FIELDS = {
  place: ["invitees call_type", "group alert custom_data headers"],
  ringing: ["call", "headers"], accept: ["call", "headers"], decline: ["call", "code headers"],
  cancel: ["call", ""], hangup: ["call", "headers"], end_for_all: ["call", ""],
  join: ["call", ""], invite: ["call users", ""], start_session: ["call", ""],
  hold: ["call on_hold", ""], mute: ["call media muted", ""],
  dtmf: ["call digits", ""], info: ["call mime body", "headers"],
  message: ["call text", ""], custom_data: ["call data", ""],
  early_media: ["call", "headers"], transfer: ["call target", ""],
  signal: ["call kind body", "to"], get_call: ["call", ""],
};

const CAPABILITIES = {
  operations: Object.keys(OP_FIELDS),
  provisioning: "server", // devices get their token from callconf in device.open
  clock: "server", // callconf drives `callconf serve --clock manual`
  max_devices: MAX_DEVICES,
  automatic: ["ringing", "start_session"], // the automatic steps we can switch off
  listeners: true, // device.listener: call listeners by id (driver-protocol.md §3.4)
};

// VENDOR: map your SDK's code onto a canonical code (wire-protocol.md §3.2, 400-503); null
// when it has none (the response is then 1004; the original travels in `vendor` either way).
function canonicalCode(vendorCode) {
  if (Number.isInteger(vendorCode) && vendorCode >= 400 && vendorCode <= 503) return vendorCode;
  return { not_connected: 401 }[vendorCode] ?? null; // e.g. {BUSY_HERE: 486, ...}
}

// VENDOR: translate one SDK event into a canonical event (wire-protocol.md §3.3); null drops it.
function canonicalEvent(sdkEvent) {
  return sdkEvent; // the wire client's events already are canonical
}

// Automatic steps caused by an event (driver-protocol.md §3.3). VENDOR: if your SDK does a
// step by itself, delete it here and switch it off in the SDK when slot.auto says false.
function afterEvent(slot, client, event) {
  const kind = event.event;
  const call = event.call;
  if (kind === "incoming" && slot.auto.ringing) {
    client.fire({ op: "ringing", call: event.info.call });
  } else if (kind === "participant" && event.state === "joined" && slot.auto.start_session &&
             event.user !== slot.user && client.outgoing.has(call) && !slot.sessions.has(call)) {
    slot.sessions.add(call); // the caller, on the first other member's join
    client.fire({ op: "start_session", call });
  }
}

// Automatic steps caused by a successful operation: start_session after accept/join.
function afterReply(slot, client, op) {
  const call = op.call;
  if (op.op === "start_session") {
    slot.sessions.add(call);
  } else if ((op.op === "accept" || op.op === "join") && slot.auto.start_session &&
             !slot.sessions.has(call)) {
    slot.sessions.add(call);
    client.fire({ op: "start_session", call });
  }
}

// ==================== PART 3: the driver protocol (keep it as it is) ====================

class Fail extends Error {
  // An error response: canonical `code`, `message`, and the SDK's `vendor` code and text.
  constructor(code, message, vendor = null) {
    super(message);
    this.code = code;
    this.vendor = vendor;
  }

  static of(e) {
    const code = canonicalCode(e.code);
    return new Fail(code ?? 1004, e.message, { code: e.code ?? null, message: e.message });
  }
}

// What the adapter keeps per device name (`alice/laptop`).
class Slot {
  constructor(name) {
    this.name = name;
    this.user = null;
    this.client = null; // the SDK client while the device is open
    this.seq = 0; // the last event seq sent since this name's last device.open
    this.auto = { ringing: true, start_session: true };
    this.sessions = new Set(); // calls this device has sent start_session for
    this.queue = Promise.resolve(); // one command at a time per device, in arrival order
    this.heard = new Map(); // listener id -> canonical events it got since the last take
    this.overflowed = new Set(); // listener ids that got more than LISTENER_EVENTS_MAX
  }

  // Runs `job` after every earlier job of this device.
  serial(job) {
    const run = this.queue.then(job);
    this.queue = run.catch(() => {});
    return run;
  }
}

function need(params, fields, kind = "string") {
  for (const f of fields) {
    const v = params[f];
    const ok = kind === "object" ? v !== null && typeof v === "object" : typeof v === kind;
    if (!ok) throw new Fail(1000, `missing or invalid field '${f}'`);
  }
}

class Adapter {
  constructor(driver) {
    this.driver = driver;
    this.slots = new Map();
    this.inFlight = new Set(); // device commands not yet answered
    this.chain = Promise.resolve(); // session.* commands wait here for everything before them
    this.methods = {
      "device.open": (p) => this.deviceOpen(p),
      "device.close": (p) => this.deviceClose(p),
      "device.op": (p) => this.deviceOp(p),
      "device.listener": (p) => this.deviceListener(p),
      "session.reset": (p) => this.sessionReset(p),
      "session.end": (p) => this.sessionEnd(p),
    };
  }

  write(msg) {
    if (this.driver.readyState === WebSocket.OPEN) this.driver.send(JSON.stringify(msg));
  }

  hello() {
    this.write({ type: "hello", protocol: "callconf-driver/1", adapter: ADAPTER, sdk: SDK,
                 capabilities: CAPABILITIES });
  }

  // One frame from callconf. Device commands run concurrently (one at a time per device);
  // a session.* command is a barrier: it runs after every command before it is answered.
  onCommand(text) {
    const cmd = this.parse(text);
    if (!cmd) return;
    if (cmd.method.startsWith("session.")) {
      const before = [this.chain, ...this.inFlight];
      this.chain = Promise.allSettled(before).then(() => this.handle(cmd));
    } else {
      const task = this.chain.then(() => this.handle(cmd));
      this.inFlight.add(task);
      task.finally(() => this.inFlight.delete(task));
    }
  }

  // The command in a frame, or null after answering it with 1000.
  parse(text) {
    let cmd;
    try {
      cmd = JSON.parse(text);
    } catch (e) {
      this.error(null, 1000, "not a JSON message");
      return null;
    }
    if (cmd === null || typeof cmd !== "object" || !("id" in cmd) || typeof cmd.method !== "string") {
      this.error(cmd && typeof cmd === "object" && "id" in cmd ? cmd.id : null, 1000,
                 "a command needs an id and a method");
      return null;
    }
    return cmd;
  }

  // Answers one command, exactly once.
  async handle(cmd) {
    const params = cmd.params ?? {};
    const handler = this.methods[cmd.method];
    if (!handler) return this.error(cmd.id, 1001, `unknown method '${cmd.method}'`);
    let result;
    try {
      if (params === null || typeof params !== "object") throw new Fail(1000, "params must be an object");
      result = await handler(params);
    } catch (e) {
      if (e instanceof Fail) return this.error(cmd.id, e.code, e.message, e.vendor);
      console.error(`command ${cmd.id} failed: ${e && e.stack}`); // a bug: still answer once
      return this.error(cmd.id, 1004, "the adapter failed", { code: e && e.name, message: String(e) });
    }
    this.write({ id: cmd.id, type: "success", result });
    if (cmd.method === "session.end") this.driver.close();
  }

  error(id, code, message, vendor = null) {
    this.write({ id, type: "error", code, message, vendor });
  }

  slot(p) {
    need(p, ["device"]);
    const slot = this.slots.get(p.device);
    if (!slot) throw new Fail(1003, `unknown device '${p.device}'`);
    return slot;
  }

  async deviceOpen(p) {
    need(p, ["device", "user", "label", "server"]);
    need(p, ["credentials"], "object");
    need(p.credentials, ["token"]);
    const auto = p.automatic ?? {};
    if (typeof auto !== "object") throw new Fail(1000, "automatic must be an object");
    const name = p.device;
    let slot = this.slots.get(name);
    if (!slot) {
      const open = [...this.slots.values()].filter((s) => s.client !== null).length;
      if (open >= MAX_DEVICES) throw new Fail(1004, `this adapter holds at most ${MAX_DEVICES} devices`);
      slot = new Slot(name);
      this.slots.set(name, slot);
    }
    return slot.serial(async () => {
      if (slot.client && slot.client.connected) throw new Fail(1000, `device '${name}' is already open`);
      if (slot.client) slot.client.close(); // it dropped on its own: replace it
      // Each open starts the name's events at seq 1 again (driver-protocol.md §2).
      slot.user = p.user;
      slot.sessions = new Set();
      slot.seq = 0;
      slot.auto = { ringing: auto.ringing ?? true, start_session: auto.start_session ?? true };
      const client = new WireDevice(null, (why) => console.warn(`device ${name} dropped: ${why}`));
      client.onEvent = (ev) => this.onSdkEvent(slot, client, ev);
      slot.client = client; // before connect: events may follow the welcome at once
      let deviceId;
      try {
        deviceId = await client.connect(p.server, p.user, p.label, p.credentials.token, TIMEOUT_MS);
      } catch (e) {
        slot.client = null;
        throw e instanceof SdkError ? Fail.of(e) : e;
      }
      console.info(`device ${name} open: id ${deviceId}`);
      return deviceId === undefined || deviceId === null ? {} : { device_id: deviceId };
    });
  }

  async deviceClose(p) {
    const slot = this.slot(p);
    return slot.serial(async () => {
      const client = slot.client;
      slot.client = null;
      if (client) client.close();
      return {};
    });
  }

  async deviceOp(p) {
    const slot = this.slot(p);
    const op = p.op;
    if (op === null || typeof op !== "object" || typeof op.op !== "string") {
      throw new Fail(1000, "op must be an object with a string field 'op'");
    }
    if (!(op.op in OP_FIELDS)) throw new Fail(1002, `unsupported operation '${op.op}'`);
    const [required, optional] = OP_FIELDS[op.op].map((s) => s.split(" ").filter(Boolean));
    const missing = required.filter((f) => !(f in op));
    const unknown = Object.keys(op).filter((f) => f !== "op" && !required.includes(f) && !optional.includes(f));
    if (missing.length || unknown.length) {
      // The server would close the connection on an unknown field.
      throw new Fail(1000, `op '${op.op}': missing [${missing}], unknown [${unknown}]`);
    }
    return slot.serial(async () => {
      const client = slot.client;
      if (!client || !client.connected) throw Fail.of(new SdkError("not_connected", "the device is not connected"));
      let reply;
      try {
        reply = await client.request(op, TIMEOUT_MS);
        // Before answering, so that the next command comes after the automatic step.
        afterReply(slot, client, op);
      } catch (e) {
        throw e instanceof SdkError ? Fail.of(e) : e;
      }
      return { reply };
    });
  }

  // device.listener: add or remove a call listener of the device's SDK by id, or take what it
  // got. A removed listener keeps its log, so anything the SDK still hands it shows.
  async deviceListener(p) {
    const slot = this.slot(p);
    need(p, ["listener", "action"]);
    const { listener: id, action } = p;
    return slot.serial(async () => {
      if (action === "take") {
        if (!slot.heard.has(id)) throw new Fail(404, `no listener with id ${JSON.stringify(id)}`);
        const events = slot.heard.get(id);
        slot.heard.set(id, []);
        if (slot.overflowed.delete(id)) {
          throw new Fail(1004, `listener ${JSON.stringify(id)} got over ${LISTENER_EVENTS_MAX} events`);
        }
        return { events };
      }
      if (action !== "add" && action !== "remove") {
        throw new Fail(1000, `unknown listener action ${JSON.stringify(action)}`);
      }
      const client = slot.client;
      if (!client) throw Fail.of(new SdkError("not_connected", "the device is not connected"));
      if (action === "remove") return { removed: client.removeListener(id) };
      const heard = (sdkEvent) => {
        const event = canonicalEvent(sdkEvent);
        if (event === null) return;
        if (!slot.heard.has(id)) slot.heard.set(id, []);
        const got = slot.heard.get(id);
        if (got.length < LISTENER_EVENTS_MAX) got.push(event);
        else slot.overflowed.add(id);
      };
      try {
        client.addListener(id, heard);
      } catch (e) {
        throw e instanceof SdkError ? Fail.of(e) : e;
      }
      if (!slot.heard.has(id)) slot.heard.set(id, []);
      return {};
    });
  }

  // An event raised by a device's SDK client: forward it with the next seq, then run the
  // automatic steps it causes.
  onSdkEvent(slot, client, sdkEvent) {
    if (slot.client !== client) return; // a client that was closed or replaced
    const event = canonicalEvent(sdkEvent);
    if (event === null) return;
    slot.seq += 1;
    this.write({ type: "event", device: slot.name, seq: slot.seq, event });
    try {
      afterEvent(slot, client, event);
    } catch (e) {
      console.warn(`automatic step on ${slot.name} failed: ${e.code} ${e.message}`);
    }
  }

  closeAll() {
    for (const s of this.slots.values()) {
      if (s.client) s.client.close();
      s.client = null;
    }
  }

  async sessionReset() {
    this.closeAll();
    this.slots.clear();
    return {};
  }

  async sessionEnd() {
    this.closeAll();
    return {};
  }
}

// Dials callconf at the URL in the fragment (#driver=ws://…) and runs the adapter on it.
function main() {
  const state = (s) => {
    const el = document.getElementById("state");
    if (el) el.textContent = s;
  };
  const url = new URLSearchParams(location.hash.slice(1)).get("driver");
  if (!url) {
    console.error("no driver URL: open this page as index.html#driver=ws://HOST:PORT/…");
    state("no driver URL");
    return;
  }
  const driver = new WebSocket(url);
  const adapter = new Adapter(driver);
  driver.onopen = () => {
    state("connected");
    adapter.hello();
  };
  driver.onmessage = (m) => adapter.onCommand(m.data);
  driver.onclose = (e) => {
    state(`closed (${e.code})`);
    adapter.closeAll(); // callconf went away: no device outlives the run
  };
}

window.addEventListener("DOMContentLoaded", main);
