// twilio_oracle.js — the official `twilio` npm package as an outside oracle
// for redial (scripts/test.sh, conformance stage). Never part of redial.
//
//   node twilio_oracle.js sign CASES.json OUT.tsv
//       For every case: the form body in wire order, and the X-Twilio-Signature
//       the package computes (getExpectedTwilioSignature), which its own
//       validateRequest must accept. OUT: "token \t url \t body \t signature"
//       lines, checked against redial's signer and verifier by
//       conformance_check (a C program linking proto/callback.c).
//   node twilio_oracle.js client SIM_BASE ACCOUNT_SID AUTH_TOKEN
//       The official REST client, pointed at redial-sim, creates a call (with
//       a StatusCallback to a receiver here) and fetches it; every callback
//       redial-sim sends must pass the package's validateRequest.
"use strict";
const fs = require("fs");
const http = require("http");
const querystring = require("querystring");
const twilio = require("twilio");
const RequestClient = require("twilio/lib/base/RequestClient");

function fail(msg) {
  console.error("conformance: " + msg);
  process.exit(1);
}

// application/x-www-form-urlencoded, space as '+', like Twilio's own POSTs.
function formEncode(pairs) {
  return pairs
    .map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v))
    .join("&")
    .replace(/%20/g, "+");
}

// The params object the package expects: repeated keys become arrays.
function paramsObject(pairs) {
  const o = {};
  for (const [k, v] of pairs) {
    if (k in o) o[k] = [].concat(o[k], v);
    else o[k] = v;
  }
  return o;
}

function sign(casesPath, outPath) {
  const spec = JSON.parse(fs.readFileSync(casesPath, "utf8"));
  const lines = [];
  for (const c of spec.cases) {
    const params = paramsObject(c.params);
    const sig = twilio.getExpectedTwilioSignature(spec.token, c.url, params);
    if (!twilio.validateRequest(spec.token, sig, c.url, params))
      fail("validateRequest refused its own signature for " + c.url);
    if (twilio.validateRequest(spec.token + "x", sig, c.url, params))
      fail("validateRequest accepted a wrong token for " + c.url);
    lines.push([spec.token, c.url, formEncode(c.params), sig].join("\t"));
  }
  fs.writeFileSync(outPath, lines.join("\n") + "\n");
  console.log("conformance: " + lines.length + " signatures from twilio " +
              require("twilio/package.json").version);
}

async function client(simBase, sid, token) {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      received.push({ url: req.url, sig: req.headers["x-twilio-signature"], body,
                      ctype: req.headers["content-type"] });
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("ok");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const cbBase = "http://127.0.0.1:" + server.address().port;
  // The package's own HTTP client, with api.twilio.com swapped for the sim.
  class SimClient extends RequestClient {
    request(opts) {
      opts.uri = opts.uri.replace(/^https:\/\/api\.twilio\.com/, simBase);
      return super.request(opts);
    }
  }
  const c = twilio(sid, token, { httpClient: new SimClient() });
  const cbUrl = cbBase + "/callbacks/twilio/s3cr3t?a=Conf%3A1";
  const call = await c.calls.create({
    to: "+14155551234",
    from: "+14155550000",
    url: "http://demo.twilio.com/docs/voice.xml",
    statusCallback: cbUrl,
    statusCallbackMethod: "POST",
    statusCallbackEvent: ["initiated", "ringing", "answered", "completed"],
    machineDetection: "Enable",
    timeout: 20,
    timeLimit: 60,
  });
  if (!/^CA[0-9a-f]{32}$/.test(call.sid)) fail("created call has sid " + call.sid);
  if (call.status !== "queued") fail("created call has status " + call.status);
  if (call.answeredBy !== null) fail("a fresh call already has answeredBy " + call.answeredBy);
  // Wait for the terminal callback, then fetch.
  for (let i = 0; i < 200 && !received.some((r) => /CallStatus=completed/.test(r.body)); i++)
    await new Promise((r) => setTimeout(r, 50));
  const fetched = await c.calls(call.sid).fetch();
  if (fetched.sid !== call.sid) fail("fetched sid " + fetched.sid);
  if (fetched.status !== "completed") fail("fetched status " + fetched.status);
  if (!(Number(fetched.duration) >= 0)) fail("fetched duration " + fetched.duration);
  if (received.length < 4) fail("got " + received.length + " callbacks, want 4");
  for (const r of received) {
    if (!/^application\/x-www-form-urlencoded/.test(r.ctype || "")) fail("callback type " + r.ctype);
    const params = querystring.parse(r.body);
    if (!twilio.validateRequest(token, r.sig, cbBase + r.url, params))
      fail("redial-sim's signature refused by validateRequest: " + r.url + " " + r.body);
    if (twilio.validateRequest(token + "x", r.sig, cbBase + r.url, params))
      fail("a wrong token validated");
  }
  // An error answer the package can read (21211 for an invalid 'To').
  try {
    await c.calls.create({ to: "12", from: "+14155550000", url: "http://x.example/t" });
    fail("an invalid 'To' was accepted");
  } catch (e) {
    if (e.code !== 21211 || e.status !== 400) fail("invalid 'To' gave " + e.status + " " + e.code);
  }
  server.close();
  console.log("conformance: twilio client created, fetched " + call.sid + "; " +
              received.length + " callbacks validated");
}

const [mode, a, b, d] = process.argv.slice(2);
if (mode === "sign") sign(a, b);
else if (mode === "client") client(a, b, d).catch((e) => fail(e.stack || String(e)));
else fail("usage: twilio_oracle.js sign CASES OUT | client SIM_BASE SID TOKEN");
