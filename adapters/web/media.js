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

// Reads (tag, frame) off the bottom rows of `video` drawn into `canvas`; null if unreadable.
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

async function answer(msg, send) {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const pc = new RTCPeerConnection(msg.configuration);
  window.callconfPc = pc;
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  pc.onconnectionstatechange = () => {
    setState(pc.connectionState);
    console.info(`connection ${pc.connectionState}`);
  };
  await pc.setRemoteDescription(msg.description);
  for (const sender of pc.getSenders()) {
    if (sender.track && sender.track.kind === "video") {
      const p = sender.getParameters();
      // The receiver compares each frame with the file's: keep the file's size.
      p.degradationPreference = "maintain-resolution";
      await sender.setParameters(p);
    }
  }
  await pc.setLocalDescription(await pc.createAnswer());
  await waitGathered(pc);
  send({ type: "answer", description: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } });
  reportCaptures(stream, send);
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
    if (msg.type === "offer") {
      answer(msg, send).catch((e) => send({ type: "error", message: `answering: ${e}` }));
    } else {
      send({ type: "error", message: `unexpected message type ${JSON.stringify(msg.type)}` });
    }
  };
  ws.onclose = () => setState("closed");
}

main();
