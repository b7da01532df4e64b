// Twilio-shaped status callbacks for bench/run_twilio_load.sh, signed with Twilio's official Node
// library (npm `twilio`, installed in tests/node): for every message that exists in the database
// a `sent` and then its outcome about 1,000 requests later. Writes one request per line for
// bench/twilio_load.lua (wrk):
//
//   MESSAGE \t PATH \t X-Twilio-Signature \t I-Twilio-Idempotency-Token \t BODY \n
//
// MESSAGE is the message's index (0, 1, ...): wrk's threads share the messages out by it, so that
// each thread sends both callbacks of its messages, in order.
//
// usage: node bench/twilio_callbacks.mjs --messages FILE --out FILE --auth-token TOKEN
//                                        --public-url URL [--account-sid AC...] [--no-mid]
//                                        [--failures 0.02] [--lag 500]
//   --messages FILE  the messages, one per line: MessageSid \t our id \t To (from the database)
//   --out FILE       where the requests go
//   --auth-token T   the TWILIO_AUTH_TOKEN smsd validates with
//   --public-url U   smsd's PUBLIC_APP_URL; the signed URL is U + the request's path and query
//   --account-sid    AccountSid of every callback (AC + 32 zeros)
//   --no-mid         callback URL without ?mid=<our id> (smsd's own StatusCallback carries it)
//   --failures F     share of messages whose outcome is a failure (0.02): three in four
//                    `undelivered` (ErrorCode 30003, 30005, 30006 in turn), one in four `failed`
//                    (30008), each after its `sent`; the others `delivered`
//   --lag N          a message's outcome follows its `sent` after N other messages' `sent`s, so
//                    about 2N requests later (500)
// The parameters are those Twilio posts on an SMS status callback (/work/shared/TWILIO.md):
// SmsSid, SmsStatus, MessageStatus, To, MessagingServiceSid, MessageSid, AccountSid, From,
// ApiVersion, plus ErrorCode on failed/undelivered and RawDlrDoneDate on delivered/undelivered.
// Prints a one-line summary on stderr; exits 2 on bad usage, 1 on failure.

import { createRequire } from "node:module";
import { randomUUID } from "node:crypto";
import { createWriteStream, readFileSync } from "node:fs";

// The official library lives in tests/node/node_modules (scripts/install-deps.sh installs it).
const require = createRequire(new URL("../tests/node/package.json", import.meta.url));
const twilio = require("twilio");
const { getExpectedTwilioSignature, validateRequest } = twilio;

const webhookPath = "/api/webhooks/twilio/status";

function usage(why) {
  if (why) console.error(`twilio_callbacks: ${why}`);
  console.error("usage: node bench/twilio_callbacks.mjs --messages FILE --out FILE --auth-token TOKEN " +
    "--public-url URL [--account-sid AC...] [--no-mid] [--failures 0.02] [--lag 500]");
  process.exit(2);
}

function options(argv) {
  const o = { accountSid: "AC" + "0".repeat(32), mid: true, failures: 0.02, lag: 500 };
  const names = {
    "--messages": "messages", "--out": "out", "--auth-token": "authToken",
    "--public-url": "publicUrl", "--account-sid": "accountSid", "--failures": "failures",
    "--lag": "lag",
  };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === "--no-mid") { o.mid = false; continue; }
    if (argv[i] === "-h" || argv[i] === "--help") usage();
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) usage(`unknown or incomplete argument: ${argv[i]}`);
    o[key] = argv[++i];
  }
  for (const k of ["messages", "out", "authToken", "publicUrl"]) if (!o[k]) usage(`--${k} is required`);
  o.failures = Number(o.failures);
  o.lag = Number(o.lag);
  if (!(o.failures >= 0 && o.failures <= 1)) usage("--failures expects a share between 0 and 1");
  if (!Number.isInteger(o.lag) || o.lag < 1) usage("--lag expects a positive whole number");
  if (!/^AC[0-9a-f]{32}$/.test(o.accountSid)) usage("--account-sid expects AC and 32 hex digits");
  o.publicUrl = o.publicUrl.replace(/\/+$/, "");
  return o;
}

// RawDlrDoneDate: the carrier's delivery report time, YYMMDDhhmm (UTC).
function dlrDate(ms) {
  const d = new Date(ms);
  const two = (n) => String(n).padStart(2, "0");
  return two(d.getUTCFullYear() % 100) + two(d.getUTCMonth() + 1) + two(d.getUTCDate()) +
    two(d.getUTCHours()) + two(d.getUTCMinutes());
}

function main() {
  const o = options(process.argv.slice(2));
  const messages = readFileSync(o.messages, "utf8").split("\n").filter((l) => l.length > 0)
    .map((l) => {
      const [sid, id, to] = l.split("\t");
      if (!/^SM[0-9a-f]{32}$/.test(sid) || !id || !to) throw new Error(`bad message line: ${l}`);
      return { sid, id, to };
    }).map((m, index) => {
      m.index = index;
      return m;
    });
  if (messages.length === 0) throw new Error(`${o.messages} holds no messages`);
  const from = "+15005550006";
  const serviceSid = "MG" + "5e7a1c0d9b3f4a6e8d2c1b0a9f8e7d6c"; // one Messaging Service sends them all
  const now = Date.now();

  // Which messages fail: spread evenly (every 1/F-th message), so every part of the run has some.
  const outcomeOf = (i) => {
    const k = Math.floor((i + 1) * o.failures);
    if (k > Math.floor(i * o.failures)) {
      if (k % 4 === 0) return { status: "failed", errorCode: "30008" };
      return { status: "undelivered", errorCode: ["30003", "30005", "30006"][k % 3] };
    }
    return { status: "delivered" };
  };

  // The body in the order Twilio posts it; URLSearchParams encodes as Twilio does ('+' -> %2B).
  const request = (m, status, errorCode) => {
    const params = {};
    if (errorCode) params.ErrorCode = errorCode;
    params.SmsSid = m.sid;
    params.SmsStatus = status;
    params.MessageStatus = status;
    params.To = m.to;
    params.MessagingServiceSid = serviceSid;
    params.MessageSid = m.sid;
    params.AccountSid = o.accountSid;
    params.From = from;
    if (status === "delivered" || status === "undelivered") params.RawDlrDoneDate = dlrDate(now);
    params.ApiVersion = "2010-04-01";
    const path = o.mid ? `${webhookPath}?mid=${encodeURIComponent(m.id)}` : webhookPath;
    const signature = getExpectedTwilioSignature(o.authToken, o.publicUrl + path, params);
    const body = new URLSearchParams(params).toString();
    return { message: m.index, path, signature, token: randomUUID(), body, params };
  };

  // The library's own validator agrees with the first request (a check on how it is called).
  const first = request(messages[0], "sent");
  if (!validateRequest(o.authToken, first.signature, o.publicUrl + first.path, first.params)) {
    throw new Error("twilio.validateRequest refuses the generator's own signature");
  }

  const out = createWriteStream(o.out);
  let lines = [];
  let written = 0;
  let failures = 0;
  const emit = (r) => {
    lines.push(`${r.message}\t${r.path}\t${r.signature}\t${r.token}\t${r.body}\n`);
    written += 1;
    if (lines.length >= 4096) {
      out.write(lines.join(""));
      lines = [];
    }
  };
  // Slot k: the `sent` of message k, then the outcome of message k - lag.
  const lag = Math.min(o.lag, messages.length);
  for (let k = 0; k < messages.length + lag; k += 1) {
    if (k < messages.length) emit(request(messages[k], "sent"));
    const j = k - lag;
    if (j >= 0) {
      const outcome = outcomeOf(j);
      if (outcome.errorCode) failures += 1;
      emit(request(messages[j], outcome.status, outcome.errorCode));
    }
  }
  out.end(lines.join(""));
  out.on("finish", () => {
    console.error(`twilio_callbacks: ${written} requests for ${messages.length} messages ` +
      `(${failures} end failed/undelivered), signed over ${o.publicUrl}${webhookPath}` +
      `${o.mid ? "?mid=<id>" : ""} with twilio ${require("twilio/package.json").version}`);
  });
  out.on("error", (err) => {
    console.error(`twilio_callbacks: writing ${o.out}: ${err.message}`);
    process.exit(1);
  });
}

try {
  main();
} catch (err) {
  console.error(`twilio_callbacks: ${err.message}`);
  process.exit(1);
}
