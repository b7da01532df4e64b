// The seed's own design of the Twilio status webhook, for bench/run_twilio_load.sh --reference:
// what smsd is measured against. Built the way /work/shared/seed-spec.md describes it ("Twilio
// Status Webhook", "Webhook Security"), on Node's own http module instead of Next.js (which only
// adds work per request, so this reference is, if anything, faster than the seed would be):
//
//   - the form body is read into a params object;
//   - a missing X-Twilio-Signature is 403, and twilio.validateRequest (the official library) checks
//     it over the public URL Twilio called (PUBLIC_APP_URL + path and query), 403 if invalid;
//   - one PostgreSQL upsert on message_sid per callback ("use upsert on messageSid for
//     idempotency"), storing the full payload in raw_payload, with a rank guard so that an
//     out-of-order callback (sent after delivered) changes nothing; autocommit, so every answer
//     waits for its own commit (synchronous_commit stays on, as PostgreSQL ships it);
//   - 200 {"success":true} once the upsert returned; 500 if it failed.
//
// It writes into smsd's own schema (`smsd migrate`), so both run on the same database shape.
// A callback for a message that does not exist would insert a row without its event and attendee
// (the seed's model requires both), which the foreign keys refuse: 500. The benchmark's messages
// all exist.
//
// usage: node bench/reference/server.mjs --listen 127.0.0.1:PORT --database-url postgresql://...
//                                         --auth-token TOKEN --public-url URL [--pool N]
//   --pool N  pg's pool size (default 2 x cores + 1: Prisma's default connection_limit)
// Prints "listening on HOST:PORT" on stdout once it accepts; stops on SIGTERM or SIGINT.

import http from "node:http";
import os from "node:os";
import { randomBytes } from "node:crypto";
import pg from "pg";
import twilio from "twilio";

function usage(why) {
  if (why) console.error(`reference: ${why}`);
  console.error("usage: node bench/reference/server.mjs --listen HOST:PORT --database-url URL " +
    "--auth-token TOKEN --public-url URL [--pool N]");
  process.exit(2);
}

const o = { pool: 2 * os.cpus().length + 1 };
const names = {
  "--listen": "listen", "--database-url": "databaseUrl", "--auth-token": "authToken",
  "--public-url": "publicUrl", "--pool": "pool",
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 1) {
  const key = names[argv[i]];
  if (!key || i + 1 >= argv.length) usage(`unknown or incomplete argument: ${argv[i]}`);
  o[key] = argv[++i];
}
for (const k of ["listen", "databaseUrl", "authToken", "publicUrl"]) if (!o[k]) usage(`--${k} is required`);
const listen = /^([0-9.]+):([0-9]+)$/.exec(o.listen);
if (!listen) usage("--listen expects HOST:PORT");
o.pool = Number(o.pool);
if (!Number.isInteger(o.pool) || o.pool < 1) usage("--pool expects a positive whole number");
const publicUrl = o.publicUrl.replace(/\/+$/, "");

const pool = new pg.Pool({ connectionString: o.databaseUrl, max: o.pool });
pool.on("error", (err) => console.error(`reference: idle client: ${err.message}`));

// Twilio's statuses in the order a message moves through them, as smsd's status_rank has them.
const rankOf = {
  accepted: 0, scheduled: 0, queued: 1, sending: 2, sent: 3,
  delivered: 4, undelivered: 4, failed: 4, canceled: 4, partially_delivered: 4, read: 5,
};
const ourStatus = { accepted: "queued", scheduled: "queued", sending: "queued", canceled: "failed",
  partially_delivered: "undelivered", read: "delivered" };

// A cuid-like id for the (edge case) insert: Prisma's @default(cuid()).
const newId = () => "c" + Date.now().toString(36) + randomBytes(8).toString("hex");

const upsert = `
  INSERT INTO sms_messages AS m
    (id, message_sid, account_sid, messaging_service_sid, to_phone, from_phone, status,
     provider_status, status_rank, error_code, raw_payload, created_at, sent_at, delivered_at,
     status_updated_at, event_id, attendee_id, notification_type)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $12, '', '', 'unknown')
  ON CONFLICT (message_sid) DO UPDATE SET
    status = EXCLUDED.status, provider_status = EXCLUDED.provider_status,
    status_rank = EXCLUDED.status_rank, error_code = EXCLUDED.error_code,
    raw_payload = EXCLUDED.raw_payload, sent_at = coalesce(m.sent_at, EXCLUDED.sent_at),
    delivered_at = coalesce(m.delivered_at, EXCLUDED.delivered_at),
    status_updated_at = EXCLUDED.status_updated_at
  WHERE m.status_rank < EXCLUDED.status_rank`;

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

async function webhook(req, res, body) {
  const params = {};
  for (const [k, v] of new URLSearchParams(body)) params[k] = v;
  const signature = req.headers["x-twilio-signature"];
  if (!signature) return answer(res, 403, { error: "Missing signature" });
  if (!twilio.validateRequest(o.authToken, signature, publicUrl + req.url, params)) {
    console.error("[Twilio Webhook] Invalid signature");
    return answer(res, 403, { error: "Invalid signature" });
  }
  const word = String(params.MessageStatus || "").toLowerCase();
  if (!params.MessageSid || !(word in rankOf)) return answer(res, 400, { error: "Bad callback" });
  const now = Date.now();
  const rank = rankOf[word];
  const values = [newId(), params.MessageSid, params.AccountSid || null,
    params.MessagingServiceSid || null, params.To || "", params.From || "",
    ourStatus[word] || word, word, rank, params.ErrorCode || null, JSON.stringify(params), now,
    rank >= 3 ? now : null, word === "delivered" || word === "read" ? now : null];
  try {
    await pool.query(upsert, values);
  } catch (err) {
    console.error(`[Twilio Webhook] upsert failed: ${err.message}`);
    return answer(res, 500, { error: "Internal error" });
  }
  return answer(res, 200, { success: true });
}

const server = http.createServer((req, res) => {
  const path = req.url.split("?")[0];
  if (req.method !== "POST" || path !== "/api/webhooks/twilio/status") {
    return answer(res, 404, { error: "Not found" });
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    webhook(req, res, Buffer.concat(chunks).toString("utf8")).catch((err) => {
      console.error(`[Twilio Webhook] ${err.message}`);
      if (!res.headersSent) answer(res, 500, { error: "Internal error" });
    });
  });
});
server.keepAliveTimeout = 65000;

const stop = () => server.close(() => pool.end().then(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

// Checks the database before accepting: a wrong URL fails here, not at the first request.
pool.query("SELECT count(*) FROM sms_messages").then(() => {
  server.listen(Number(listen[2]), listen[1], () => console.log(`listening on ${o.listen}`));
}, (err) => {
  console.error(`reference: ${err.message}`);
  process.exit(1);
});
