// The world a browser test runs in: the real smsd and twilio_sim on 127.0.0.1 (SQLite in a
// temporary folder), each stopped by its own pid; tokens; seeding through the admin API.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const sourceDir = join(here, '..', '..', '..');

export const paths = {
  smsd: process.env.SMSD_BINARY || join(sourceDir, 'build', 'smsd'),
  sim: process.env.TWILIO_SIM_BINARY || join(sourceDir, 'build', 'twilio_sim'),
};

export const ACCOUNT_SID = 'AC00000000000000000000000000000000';
const AUTH_TOKEN = 'browser-test-auth-token';
const SERVICE_SID = 'MG00000000000000000000000000000000';
const JWT_SECRET = 'browser-test-jwt-secret-0123456789';
export const ADMIN_TOKEN = 'browser-test-admin-token';

/** Polls `check` (async, truthy when done) every `every` ms until `ms` pass; throws `what`. */
export async function waitFor(what, check, { ms = 10000, every = 50 } = {}) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, every));
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A child process whose output is kept (the end of it is shown when something fails). */
class Child {
  constructor(name, cmd, args, env) {
    if (!existsSync(cmd)) throw new Error(`${name} not found at ${cmd}: build it first (scripts/build.sh smsd twilio_sim)`);
    this.name = name;
    this.output = '';
    this.proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
    this.running = true;
    this.exited.then(() => { this.running = false; });
    const keep = (chunk) => {
      this.output += chunk.toString();
      if (this.output.length > 200000) this.output = this.output.slice(-100000);
    };
    this.proc.stdout.on('data', keep);
    this.proc.stderr.on('data', keep);
    children.add(this);
  }

  tail(n = 3000) {
    return this.output.slice(-n);
  }

  /** SIGTERM, then SIGKILL after 10 s; by this child's own pid only. */
  async stop() {
    if (!this.running) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.running && this.proc.kill('SIGKILL'), 10000);
    await this.exited;
    clearTimeout(timer);
    children.delete(this);
  }
}

const children = new Set();
// A test runner that dies still takes its servers with it.
process.once('exit', () => {
  for (const c of children) if (c.running) c.proc.kill('SIGKILL');
});

async function request(base, method, path, { token, body, headers = {} } = {}) {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15000),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}

function b64url(data) {
  return Buffer.from(data).toString('base64url');
}

/** An organizer token (HS256 JWT) for `user`, valid for `ttl` seconds. */
export function organizerToken(user, ttl = 3600) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ sub: user, iat: now, exp: now + ttl }));
  const sig = createHmac('sha256', JWT_SECRET).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/**
 * Starts twilio_sim and smsd. `sim`: the simulator's behaviour (PUT /_sim/config keys);
 * `env`: more settings for smsd.
 */
export async function startWorld({ sim = {}, env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'smsd-browser-'));
  const simChild = new Child('twilio_sim', paths.sim, ['--listen', '127.0.0.1:0', '--account-sid', ACCOUNT_SID,
    '--auth-token', AUTH_TOKEN, '--log-level', 'warn'], process.env);
  const simPort = await waitFor('twilio_sim to listen', () => {
    if (!simChild.running) throw new Error(`twilio_sim exited: ${simChild.tail()}`);
    const m = /twilio_sim listening on 127\.0\.0\.1:(\d+)/.exec(simChild.output);
    return m ? Number(m[1]) : null;
  }, { ms: 15000 });
  const simBase = `http://127.0.0.1:${simPort}`;

  let smsdChild;
  let base;
  for (let attempt = 0; ; attempt += 1) {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    smsdChild = new Child('smsd', paths.smsd, ['serve'], {
      ...process.env,
      SMSD_LISTEN: `127.0.0.1:${port}`,
      PUBLIC_APP_URL: base,
      SMSD_DATABASE_URL: `sqlite:${join(dir, 'smsd.db')}`,
      SMSD_ADMIN_TOKEN: ADMIN_TOKEN,
      SMSD_JWT_SECRET: JWT_SECRET,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_MESSAGING_SERVICE_SID: SERVICE_SID,
      TWILIO_API_BASE_URL: simBase,
      SMSD_LOG_LEVEL: 'warn',
      SMSD_HTTP_THREADS: '8',
      ...env,
    });
    try {
      await waitFor('smsd to be ready', async () => {
        if (!smsdChild.running) throw new Error(`smsd exited: ${smsdChild.tail()}`);
        const r = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
        return r.status === 200;
      }, { ms: 20000, every: 100 });
      break;
    } catch (e) {
      await smsdChild.stop();
      if (attempt >= 2) throw e; // the port may have been taken meanwhile: try another
    }
  }

  const world = {
    base,
    simBase,
    dir,
    smsd: smsdChild,
    sim: simChild,
    admin: (method, path, body) => request(base, method, path, { token: ADMIN_TOKEN, body }),
    as: (token, method, path, body, headers) => request(base, method, path, { token, body, headers }),
    simGet: async (path) => (await request(simBase, 'GET', path)).json,
    async simConfig(behaviour) {
      const r = await request(simBase, 'PUT', '/_sim/config', { body: behaviour });
      if (r.status !== 200) throw new Error(`PUT /_sim/config: ${r.status} ${r.text}`);
    },
    simStats: () => world.simGet('/_sim/stats'),
    /** Waits until the simulator has posted every callback it planned. */
    async settled(ms = 15000) {
      await waitFor('the simulator\'s callbacks to be posted', async () => (await world.simStats()).callbacks_pending === 0, { ms });
    },
    async stop() {
      await smsdChild.stop();
      await simChild.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await world.simConfig({ callback_delays_ms: [30, 30, 30], ...sim });
  return world;
}

/** A random id suffix, so that tests sharing a world never share an event. */
export function suffix() {
  return randomBytes(4).toString('hex');
}

/**
 * Seeds an event through the admin API: attendees [{id, firstName, lastName, phone}], organizers
 * {userId: permissions}, then one notification to every attendee with a phone.
 */
export async function seedEvent(world, { id, name = 'No Edges', date = '2026-12-01T19:00:00Z', owner = 'owner-1',
  attendees = [], organizers = {}, notify = [] }) {
  const check = (r, what) => {
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
    return r;
  };
  check(await world.admin('PUT', `/api/admin/events/${id}`, { name, date, ownerId: owner }), 'PUT event');
  for (const a of attendees) {
    check(await world.admin('PUT', `/api/admin/events/${id}/attendees/${a.id}`,
      { firstName: a.firstName, lastName: a.lastName ?? null, phone: a.phone ?? null }), `PUT attendee ${a.id}`);
  }
  for (const [user, permissions] of Object.entries(organizers)) {
    check(await world.admin('PUT', `/api/admin/events/${id}/organizers/${user}`, { permissions }), `PUT organizer ${user}`);
  }
  for (const n of notify) {
    check(await world.admin('POST', `/api/events/${id}/notify`, n), 'notify');
  }
  return id;
}
