// Signs Twilio status callbacks with the official twilio library (an independent signer) and
// checks smsd's answers: a correctly signed callback is accepted (200); a one-byte change to
// the URL, to any parameter name, to any parameter value, or to the token is refused (403).
//
// usage: node signed_callbacks.mjs [--base-url URL] [--public-url URL] [--auth-token TOKEN]
//   --base-url    where smsd listens, e.g. http://127.0.0.1:8080      (env SMSD_BASE_URL)
//   --public-url  the PUBLIC_APP_URL smsd validates against           (env SMSD_PUBLIC_URL)
//   --auth-token  TWILIO_AUTH_TOKEN of that smsd                       (env TWILIO_AUTH_TOKEN)
// The intake behind smsd must acknowledge callbacks (a fake one in tests).
// Prints one line per case; exits 1 on any mismatch, 2 on bad usage.

import twilio from "twilio";

const { getExpectedTwilioSignature } = twilio;

function options(argv) {
  const out = {
    baseUrl: process.env.SMSD_BASE_URL,
    publicUrl: process.env.SMSD_PUBLIC_URL,
    authToken: process.env.TWILIO_AUTH_TOKEN,
  };
  const names = { "--base-url": "baseUrl", "--public-url": "publicUrl", "--auth-token": "authToken" };
  for (let i = 0; i < argv.length; i += 1) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) {
      console.error(`unknown or incomplete argument: ${argv[i]}`);
      process.exit(2);
    }
    out[key] = argv[i + 1];
    i += 1;
  }
  for (const [flag, key] of Object.entries(names)) {
    if (!out[key]) {
      console.error(`missing ${flag} (or its environment variable)`);
      process.exit(2);
    }
  }
  out.baseUrl = out.baseUrl.replace(/\/+$/, "");
  out.publicUrl = out.publicUrl.replace(/\/+$/, "");
  return out;
}

// One byte changed: the last character bumped to its successor ("z" wraps to "a").
function bump(text) {
  const last = text.charCodeAt(text.length - 1);
  const next = last === 0x7a ? 0x61 : last === 0x39 ? 0x30 : last + 1;
  return text.slice(0, -1) + String.fromCharCode(next);
}

// The body as Twilio sends it; arrays are repeated names.
function encode(params) {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) body.append(name, v);
  }
  return body.toString();
}

async function post(opts, path, params, signature, extraHeaders = {}) {
  const response = await fetch(opts.baseUrl + path, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
      "X-Twilio-Signature": signature,
      ...extraHeaders,
    },
    body: encode(params),
  });
  await response.text();
  return response.status;
}

async function main() {
  const opts = options(process.argv.slice(2));
  const path = "/api/webhooks/twilio/status?mid=msg_node_check";
  const url = opts.publicUrl + path;
  const params = {
    AccountSid: "AC0123456789abcdef0123456789abcdef",
    ApiVersion: "2010-04-01",
    ErrorCode: "30003",
    From: "+15005550006",
    MessageSid: "SM0123456789abcdef0123456789abcdef",
    MessageStatus: "undelivered",
    MessagingServiceSid: "MG0123456789abcdef0123456789abcdef",
    RawDlrDoneDate: "2602121545",
    SmsSid: "SM0123456789abcdef0123456789abcdef",
    SmsStatus: "undelivered",
    To: "+15551234567",
    // Fields Twilio may add later are signed too; spaces, '+', '&', '=' and UTF-8 travel encoded.
    Xtra: "a b+c&d=e \u00e9\u20ac",
  };
  const sign = (token, signedUrl, p) => getExpectedTwilioSignature(token, signedUrl, p);

  const cases = [];
  const add = (name, expected, run) => cases.push({ name, expected, run });

  add("correctly signed", 200, () => post(opts, path, params, sign(opts.authToken, url, params)));
  add("correctly signed, repeated parameter names", 200, () => {
    const p = { ...params, Xtra: ["second", "first"] };
    return post(opts, path, p, sign(opts.authToken, url, p));
  });
  const publicUrl = new URL(opts.publicUrl);
  if (!publicUrl.port && (publicUrl.protocol === "https:" || publicUrl.protocol === "http:")) {
    const port = publicUrl.protocol === "https:" ? "443" : "80";
    const withPort = `${publicUrl.protocol}//${publicUrl.host}:${port}${publicUrl.pathname.replace(/\/+$/, "")}${path}`;
    add("correctly signed, default port in the signed URL", 200, () =>
      post(opts, path, params, sign(opts.authToken, withPort, params)));
  }
  add("URL changed by one byte", 403, () => post(opts, path, params, sign(opts.authToken, bump(url), params)));
  add("token changed by one byte", 403, () =>
    post(opts, path, params, sign(bump(opts.authToken), url, params)));
  for (const name of Object.keys(params)) {
    add(`parameter name ${name} changed by one byte`, 403, () => {
      const changed = {};
      for (const [n, v] of Object.entries(params)) changed[n === name ? bump(n) : n] = v;
      return post(opts, path, changed, sign(opts.authToken, url, params));
    });
    add(`parameter value of ${name} changed by one byte`, 403, () => {
      const changed = { ...params, [name]: bump(params[name]) };
      return post(opts, path, changed, sign(opts.authToken, url, params));
    });
  }

  let failures = 0;
  for (const c of cases) {
    let got;
    try {
      got = await c.run();
    } catch (err) {
      got = `error: ${err.message}`;
    }
    const ok = got === c.expected;
    if (!ok) failures += 1;
    console.log(`${ok ? "ok  " : "FAIL"} ${c.name}: expected ${c.expected}, got ${got}`);
  }
  console.log(`signer check: ${cases.length} cases, ${failures} mismatches`);
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
