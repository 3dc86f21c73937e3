// callconf media page: the browser end of a media call with callconf's webrtc-rs peer.
//
// The page dials the URL in its fragment (#media=ws://127.0.0.1:PORT/TOKEN, a channel only
// callconf's harness serves) and then:
//   1. gets {type:"offer", configuration, description} from callconf: its RTCConfiguration
//      (loopback-only ICE: no ICE servers, one bundled transport; media/ice.rs) and the
//      webrtc-rs peer's offer (VP8 + Opus, every candidate gathered);
//   2. getUserMedia (the fake capture files), adds both tracks, answers, waits for its ICE
//      gathering to complete and sends {type:"answer", description};
//   3. for every frame its local preview shows, reads the frame mark (tag, frame number) out
//      of the picture and sends {type:"captured", tag, frame, at_ms}: at_ms is the frame's
//      `captureTime` from requestVideoFrameCallback plus performance.timeOrigin, i.e. wall
//      clock milliseconds since the Unix epoch, which callconf (same host, same clock) turns
//      into the capture instant its analysers compare the decode time with.
//   In the other direction (the offer's role.mode is "receive": callconf's webrtc-rs peer
//   sends, media/browser_receive.rs) the page takes no capture and instead:
//   2'. answers receive-only and plays the remote stream in <video id="remote">;
//   3'. for every frame requestVideoFrameCallback shows, reads its mark off a canvas and sends
//      {type:"decoded", tag, frame, at_ms, receive_ms}: performance.timeOrigin plus the
//      frame's presentationTime (handed to the compositor) and receiveTime (its last packet
//      arrived), wall-clock ms since the Unix epoch; for every role.luma_every-th frame (by
//      mark, at most role.luma_max, each under role.message_bytes_max) a binary message of
//      its luma: "Y8", tag, 0, frame (u32 LE), width, height (u16 LE), then the BT.601
//      limited-range Y of the canvas's RGB, row by row;
//   4'. answers {type:"stats"} with {type:"stats", inbound:[...]}: its getStats inbound-rtp
//      entries (packets received and lost, jitter, frames decoded, audio level, NACKs).
// In a media session (role.mode is "both": a participant of callconf's media features whose
// media stack is this browser, media/session/browser.rs) the page does both at once:
//   2''. getUserMedia of role.kinds, adds them, answers and plays the remote stream; reports
//      each remote track as {type:"track", kind} when `ontrack` delivers it;
//   3''. reports its own captures as in 3., and the remote frames it shows as in 3'. (no luma);
//   4''. {type:"send", audio, video} starts or stops sending each kind (RTCRtpSender
//      replaceTrack: a muted or held track sends no RTP at all), {type:"close"} closes the
//      connection; {type:"stats"} also carries totalSamplesReceived and concealedSamples, so
//      callconf knows when remote audio was decoded.
// Errors go back as {type:"error", message}. Every wait has a deadline.
"use strict";

const GATHER_TIMEOUT_MS = 10000;
// The mark's layout, as media/analyze.rs draws and reads it: 4 calibration boxes (black,
// white, black, white) then 32 data bits (tag: 8, frame number: 24), on the bottom edge.
const MARK_CALIBRATION_BOXES = 4;
const MARK_DATA_BITS = 32;
const MARK_BOXES = MARK_CALIBRATION_BOXES + MARK_DATA_BITS;
const MARK_MIN_BOX_WIDTH_PX = 8;
const MARK_MAX_BOX_WIDTH_PX = 32;
const MARK_DARK_MAX_LUMA = 96;
const MARK_LIGHT_MIN_LUMA = 160;

function setState(s) {
  const el = document.getElementById("state");
  if (el) el.textContent = s;
}

// Draws `video` into `canvas` and reads (tag, frame) off its bottom rows; null if unreadable.
function readMark(video, canvas) {
  const width = video.videoWidth;
  const height = video.videoHeight;
  const boxW = Math.min(Math.floor(width / MARK_BOXES) & ~3, MARK_MAX_BOX_WIDTH_PX);
  const boxH = boxW * 2;
  if (boxW < MARK_MIN_BOX_WIDTH_PX || boxH > height) return null;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(video, 0, 0, width, height);
  const top = height - boxH;
  const px = ctx.getImageData(0, top, width, boxH).data;
  const xm = Math.floor(boxW / 4);
  const ym = Math.floor(boxH / 4);
  let word = 0;
  for (let i = 0; i < MARK_BOXES; i++) {
    let sum = 0;
    let n = 0;
    for (let y = ym; y < boxH - ym; y++) {
      for (let x = i * boxW + xm; x < (i + 1) * boxW - xm; x++) {
        const o = (y * width + x) * 4;
        sum += 0.299 * px[o] + 0.587 * px[o + 1] + 0.114 * px[o + 2];
        n++;
      }
    }
    const mean = sum / n;
    let bit;
    if (mean <= MARK_DARK_MAX_LUMA) bit = 0;
    else if (mean >= MARK_LIGHT_MIN_LUMA) bit = 1;
    else return null;
    if (i < MARK_CALIBRATION_BOXES) {
      if (bit !== i % 2) return null;
    } else {
      word = word * 2 + bit;
    }
  }
  return { tag: Math.floor(word / 0x1000000), frame: word % 0x1000000 };
}

function waitGathered(pc) {
  return new Promise((resolve, reject) => {
    if (pc.iceGatheringState === "complete") return resolve();
    const timer = setTimeout(() => reject(new Error(`ICE gathering: not complete within ${GATHER_TIMEOUT_MS} ms`)), GATHER_TIMEOUT_MS);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

// Reports every frame the local preview shows, with its capture time, until the page closes.
function reportCaptures(stream, send) {
  const video = document.getElementById("preview");
  const canvas = document.getElementById("marks");
  video.srcObject = stream;
  const onFrame = (_now, meta) => {
    const mark = readMark(video, canvas);
    if (mark && meta.captureTime !== undefined) {
      send({ type: "captured", tag: mark.tag, frame: mark.frame, at_ms: meta.captureTime + performance.timeOrigin });
    } else {
      send({ type: "captured", tag: null, frame: null, at_ms: null });
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  video.play().catch((e) => send({ type: "error", message: `preview: ${e}` }));
}

// Takes the offer, keeps the captured video at the file's size (the receiver compares each
// frame with the file's), answers once ICE gathering is complete and sends the answer.
async function answerWithCapture(pc, offer, send) {
  await pc.setRemoteDescription(offer);
  for (const sender of pc.getSenders()) {
    if (sender.track && sender.track.kind === "video") {
      const p = sender.getParameters();
      p.degradationPreference = "maintain-resolution";
      await sender.setParameters(p);
    }
  }
  await pc.setLocalDescription(await pc.createAnswer());
  await waitGathered(pc);
  send({ type: "answer", description: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } });
}

async function answer(msg, send) {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const pc = new RTCPeerConnection(msg.configuration);
  window.callconfPc = pc;
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  pc.onconnectionstatechange = () => {
    setState(pc.connectionState);
    console.info(`connection ${pc.connectionState}`);
  };
  await answerWithCapture(pc, msg.description, send);
  reportCaptures(stream, send);
}

// The BT.601 limited-range luma of `canvas` (as drawn by readMark), with its header.
function lumaMessage(canvas, mark) {
  const { width, height } = canvas;
  const px = canvas.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, width, height).data;
  const out = new Uint8Array(12 + width * height);
  const view = new DataView(out.buffer);
  out[0] = 0x59; // "Y"
  out[1] = 0x38; // "8"
  out[2] = mark.tag;
  view.setUint32(4, mark.frame, true);
  view.setUint16(8, width, true);
  view.setUint16(10, height, true);
  for (let i = 0, o = 0; i < width * height; i++, o += 4) {
    out[12 + i] = Math.round(16 + (65.481 * px[o] + 128.553 * px[o + 1] + 24.966 * px[o + 2]) / 255);
  }
  return out;
}

// Reports every frame of the remote video the page shows, and some frames' luma.
function reportDecoded(video, role, channel, canvas = document.getElementById("marks")) {
  let lumaSent = 0;
  const onFrame = (_now, meta) => {
    const mark = readMark(video, canvas);
    const wall = (t) => (t === undefined ? null : t + performance.timeOrigin);
    if (mark) {
      channel.send({ type: "decoded", tag: mark.tag, frame: mark.frame, at_ms: wall(meta.presentationTime), receive_ms: wall(meta.receiveTime) });
      const bytes = 12 + canvas.width * canvas.height;
      if (mark.frame % role.luma_every === 0 && lumaSent < role.luma_max && bytes <= role.message_bytes_max) {
        channel.sendBytes(lumaMessage(canvas, mark));
        lumaSent++;
      }
    } else {
      channel.send({ type: "decoded", tag: null, frame: null, at_ms: null, receive_ms: null });
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

// The page's inbound-rtp stats, as callconf reads them.
async function inboundStats(pc) {
  const inbound = [];
  (await pc.getStats()).forEach((s) => {
    if (s.type !== "inbound-rtp") return;
    inbound.push({
      kind: s.kind,
      packetsReceived: s.packetsReceived,
      packetsLost: s.packetsLost,
      jitter: s.jitter,
      framesDecoded: s.framesDecoded,
      audioLevel: s.audioLevel,
      nackCount: s.nackCount,
      retransmittedPacketsReceived: s.retransmittedPacketsReceived,
      totalSamplesReceived: s.totalSamplesReceived,
      concealedSamples: s.concealedSamples,
    });
  });
  return inbound;
}

// Plays what `pc` receives in <video id="remote"> (returned) and shows the connection's state;
// `reportTracks`: tell callconf of each remote track as it comes.
function playRemote(pc, channel, reportTracks) {
  const video = document.getElementById("remote");
  const remote = new MediaStream();
  pc.ontrack = (e) => {
    remote.addTrack(e.track);
    if (reportTracks) channel.send({ type: "track", kind: e.track.kind });
    if (video.srcObject !== remote) {
      video.srcObject = remote;
      video.play().catch((err) => channel.send({ type: "error", message: `remote video: ${err}` }));
    }
  };
  pc.onconnectionstatechange = () => {
    setState(pc.connectionState);
    console.info(`connection ${pc.connectionState}`);
  };
  return video;
}

// The receiving role: no capture; the remote stream is played and reported.
async function receive(msg, channel) {
  const pc = new RTCPeerConnection(msg.configuration);
  window.callconfPc = pc;
  const video = playRemote(pc, channel, false);
  await pc.setRemoteDescription(msg.description);
  await pc.setLocalDescription(await pc.createAnswer());
  await waitGathered(pc);
  channel.send({ type: "answer", description: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } });
  reportDecoded(video, msg.role, channel);
}

// The session role: send the capture and play the remote stream on one connection.
async function both(msg, channel) {
  const kinds = msg.role.kinds;
  const stream = await navigator.mediaDevices.getUserMedia({ audio: kinds.includes("audio"), video: kinds.includes("video") });
  const pc = new RTCPeerConnection(msg.configuration);
  window.callconfPc = pc;
  const senders = {};
  const tracks = {};
  for (const track of stream.getTracks()) {
    senders[track.kind] = pc.addTrack(track, stream);
    tracks[track.kind] = track;
  }
  window.callconfSend = async (want) => {
    for (const kind of Object.keys(senders)) {
      const track = want[kind] ? tracks[kind] : null;
      if (senders[kind].track !== track) await senders[kind].replaceTrack(track);
    }
  };
  const video = playRemote(pc, channel, true);
  await answerWithCapture(pc, msg.description, channel.send);
  if (tracks.video) reportCaptures(stream, channel.send);
  reportDecoded(video, { luma_every: 1, luma_max: 0, message_bytes_max: 0 }, channel, document.getElementById("remote-marks"));
}

function main() {
  const params = new URLSearchParams(location.hash.slice(1));
  const url = params.get("media");
  if (!url) {
    setState("no #media= URL");
    return;
  }
  const ws = new WebSocket(url);
  const send = (m) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
  };
  const channel = {
    send,
    sendBytes: (b) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(b);
    },
  };
  ws.onopen = () => {
    setState("connected");
    send({ type: "hello" });
  };
  ws.onmessage = (m) => {
    let msg;
    try {
      msg = JSON.parse(m.data);
    } catch (e) {
      send({ type: "error", message: `not JSON: ${e}` });
      return;
    }
    if (msg.type === "offer" && msg.role && msg.role.mode === "both") {
      both(msg, channel).catch((e) => send({ type: "error", message: `answering: ${e}` }));
    } else if (msg.type === "send" && window.callconfSend) {
      window.callconfSend(msg).catch((e) => send({ type: "error", message: `send: ${e}` }));
    } else if (msg.type === "close" && window.callconfPc) {
      window.callconfPc.close();
    } else if (msg.type === "offer" && msg.role && msg.role.mode === "receive") {
      receive(msg, channel).catch((e) => send({ type: "error", message: `answering: ${e}` }));
    } else if (msg.type === "offer") {
      answer(msg, send).catch((e) => send({ type: "error", message: `answering: ${e}` }));
    } else if (msg.type === "stats" && !window.callconfPc) {
      send({ type: "stats", inbound: [] });
    } else if (msg.type === "stats") {
      inboundStats(window.callconfPc)
        .then((inbound) => send({ type: "stats", inbound }))
        .catch((e) => send({ type: "error", message: `getStats: ${e}` }));
    } else {
      send({ type: "error", message: `unexpected message type ${JSON.stringify(msg.type)}` });
    }
  };
  ws.onclose = () => setState("closed");
}

main();
