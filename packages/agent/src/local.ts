/**
 * `npm run agent`: the newcomer's one command. After `npm start` and `npx canopy login`, it puts
 * this machine under Canopy: with the CLI's saved login it creates an install request with an
 * enrollment token for this host (under `--under NODE`, default a top-level `local` node it creates
 * when absent), enrolls into `./data/agent`, and runs the agent in the foreground. Run again, it
 * finds the saved credential and just runs.
 *
 *   npm run agent [-- --under NODE] [--hostname NAME] [--state-dir DIR] [--no-run]
 */
import { readFileSync } from 'node:fs';
import { homedir, hostname as osHostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startDaemon } from './daemon.ts';
import { enroll } from './enroll.ts';
import { openStorage } from './storage.ts';

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const NODE_PATH = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function fail(msg: string): never {
  console.error(`npm run agent: ${msg}`);
  process.exit(2);
}

/** The CLI's connection: CANOPY_URL/CANOPY_TOKEN, else the file `canopy login` wrote (cli/src/config.ts's rules). */
export function cliLogin(env: NodeJS.ProcessEnv = process.env): { url: string; token: string | undefined } {
  const path = env['CANOPY_CONFIG'] || join(env['XDG_CONFIG_HOME'] || join(homedir(), '.config'), 'canopy', 'config.json');
  let saved: { url?: unknown; token?: unknown } = {};
  try {
    saved = JSON.parse(readFileSync(path, 'utf8')) as typeof saved;
  } catch {
    // No login saved: the environment must say.
  }
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return { url: str(env['CANOPY_URL']) ?? str(saved.url) ?? 'http://127.0.0.1:7070', token: str(env['CANOPY_TOKEN']) ?? str(saved.token) };
}

/** Call the control center's API as the logged-in user; a problem answer becomes an Error with its detail. */
async function api<T>(url: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(new URL(`/api/v1${path}`, url), {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const parsed = (await res.json().catch(() => ({}))) as T;
  return { status: res.status, body: parsed };
}

const problem = (r: { status: number; body: unknown }) => (r.body as { detail?: string }).detail ?? `HTTP ${r.status}`;

/** Create the install request for `hostname` under `under` (making the default `local` node), returning its token. */
async function requestToken(url: string, token: string, hostname: string, under: string, makeNode: boolean): Promise<string> {
  if (makeNode && (await api(url, token, 'GET', `/nodes/${under}`)).status === 404) {
    const n = await api(url, token, 'POST', '/nodes', { parentPath: null, name: under, description: 'machines enrolled with `npm run agent`' });
    if (n.status !== 201) fail(`could not create node '${under}': ${problem(n)}`);
  }
  const ask = () => api<{ id?: number; enrollmentToken?: string }>(url, token, 'POST', '/provisioning', { hostname, nodePath: under, enroll: true });
  let r = await ask();
  // An earlier run's request still open (its token lost with a deleted state dir): replace it.
  const open = r.status === 409 ? (r.body as { details?: { id?: number }; id?: number }) : undefined;
  const openId = open?.id ?? open?.details?.id;
  if (openId !== undefined) {
    await api(url, token, 'DELETE', `/provisioning/${openId}`);
    r = await ask();
  }
  if (r.status !== 201 || !r.body.enrollmentToken) fail(`could not create the install request for ${hostname} under ${under}: ${problem(r)}`);
  return r.body.enrollmentToken;
}

const USAGE = 'usage: npm run agent [-- --under NODE] [--hostname NAME] [--state-dir DIR] [--no-run]';
let parsed;
try {
  parsed = parseArgs({
    options: {
      under: { type: 'string' },
      hostname: { type: 'string' },
      'state-dir': { type: 'string', default: resolve('data/agent') },
      'no-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`);
}
const { values } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const hostname = values.hostname ?? osHostname().toLowerCase();
if (!HOSTNAME.test(hostname)) fail(`'${hostname}' is not a host name: pass --hostname NAME`);
const under = values.under ?? 'local';
if (!NODE_PATH.test(under)) fail(`--under '${under}' is not a node path`);
const stateDir = values['state-dir'];
const storage = openStorage(stateDir);

let credential = storage.readCredential();
if (credential) {
  console.log(`already enrolled as ${credential.hostname} (credential in ${storage.credentialPath})`);
} else {
  const login = cliLogin();
  if (!login.token) fail(`not logged in to ${login.url}: run \`npx canopy login\` first (or set CANOPY_TOKEN)`);
  const enrollmentToken = await requestToken(login.url, login.token, hostname, under, values.under === undefined);
  try {
    credential = await enroll({ url: login.url, token: enrollmentToken, storage, hostname });
  } catch (err) {
    fail(`enrollment failed: ${(err as Error).message}`);
  }
  console.log(`enrolled ${credential.hostname} under ${under}; credential saved in ${storage.credentialPath}`);
}
if (values['no-run']) process.exit(0);

const daemon = startDaemon({ url: credential.url, token: credential.token, stateDir, hostname: credential.hostname, caPem: credential.caPem, fingerprint: credential.fingerprint });
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    void daemon.stop().then(() => process.exit(0));
  });
}
