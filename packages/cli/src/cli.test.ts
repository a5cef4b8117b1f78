import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, testBackends, ADMIN_PASSWORD, type TestServer } from '../../server/src/testing/index.ts';

import { CLI_MAIN as MAIN, NODE, runNode, type Run } from './cli-harness.test-util.ts';

describe('canopy CLI against a live server', () => {
  let s: TestServer;
  let url: string;
  let dir: string;
  let adminConfig: string;

  /** Runs the CLI as a subprocess (asynchronously: the server answers from this very process). */
  function canopy(args: string[], opts: { input?: string; env?: Record<string, string>; config?: string } = {}): Promise<Run> {
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: dir, CANOPY_CONFIG: opts.config ?? adminConfig, ...opts.env };
    return runNode(MAIN, args, { env, cwd: dir, ...(opts.input !== undefined ? { input: opts.input } : {}) });
  }

  /** Runs the CLI and insists it succeeded. */
  async function ok(args: string[], opts: Parameters<typeof canopy>[1] = {}): Promise<string> {
    const r = await canopy(args, opts);
    assert.equal(r.code, 0, `canopy ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  }

  const okJson = async <T>(args: string[], opts: Parameters<typeof canopy>[1] = {}): Promise<T> => JSON.parse(await ok([...args, '--json'], opts)) as T;

  before(async () => {
    s = await startTestServer(testBackends()[0]!);
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'canopy-cli-'));
    adminConfig = join(dir, 'admin', 'config.json');
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('login --password-stdin writes url and token to a 0600 config file, and whoami uses it', async () => {
    const out = await ok(['login', '--url', url, '--username', 'admin', '--password-stdin'], { input: `${ADMIN_PASSWORD}\n` });
    assert.match(out, /^logged in to http:\/\/127\.0\.0\.1:\d+ as admin \(superuser\)/);
    const saved = JSON.parse(readFileSync(adminConfig, 'utf8')) as { url: string; token: string };
    assert.equal(saved.url, url);
    assert.match(saved.token, /^cns_/);
    assert.equal(statSync(adminConfig).mode & 0o777, 0o600);
    assert.equal((await okJson<{ username: string }>(['whoami'])).username, 'admin');
    assert.match(await ok(['whoami']), /^user: +admin \(superuser\)$/m);
  });

  test('a wrong password fails with a readable error and leaves no config behind', async () => {
    const config = join(dir, 'wrong', 'config.json');
    const r = await canopy(['login', '--url', url, '-u', 'admin', '--password-stdin'], { input: 'nope', config });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: wrong username or password (unauthenticated)\n');
    assert.throws(() => statSync(config), { code: 'ENOENT' });
  });

  test('tree add, ls, mv, rename and rm', async () => {
    await ok(['tree', 'add', 'cli', '--description', 'the CLI test tree']);
    await ok(['tree', 'add', 'cli.web', '--label', 'tier=web', '--label', 'team=sre']);
    await ok(['tree', 'add', 'cli.web.api']);
    await ok(['tree', 'add', 'cli.db']);
    await ok(['tree', 'add', 'cli.tmp']);
    const outline = await ok(['tree', 'ls', 'cli']);
    assert.deepEqual(outline.split('\n').map((l) => /^ *\S+/.exec(l)?.[0]), ['NODE', 'cli', '  db', '  tmp', '  web', '    api', undefined], outline);
    assert.match(outline, /^ {2}web +0 +team=sre,tier=web +-$/m);
    assert.match(await ok(['tree', 'ls', 'cli', '--depth', '1']), /^ {2}web \(\+1\) /m);

    assert.equal(await ok(['tree', 'mv', 'cli.web.api', 'cli.db']), 'moved cli.web.api to cli.db.api\n');
    assert.equal(await ok(['tree', 'rename', 'cli.db.api', 'rpc']), 'renamed cli.db.api to cli.db.rpc\n');
    assert.equal(await ok(['tree', 'rm', 'cli.tmp']), 'removed cli.tmp (see `canopy tree trash`)\n');
    const nodes = await okJson<{ path: string }[]>(['tree', 'ls', 'cli', '--depth', '5']);
    assert.deepEqual(nodes.map((n) => n.path).sort(), ['cli.db', 'cli.db.rpc', 'cli.web']);
  });

  test('an unknown node is a one-line error on stderr and exit code 1', async () => {
    const r = await canopy(['tree', 'ls', 'cli.nope']);
    assert.deepEqual(r, { code: 1, stdout: '', stderr: "error: node 'cli.nope' not found (not_found)\n" });
  });

  test('field issues are listed under the error line', async () => {
    const r = await canopy(['tree', 'add', 'cli.Bad_Name']);
    assert.equal(r.code, 1);
    const [line, issue] = r.stderr.split('\n');
    // In the CLI's words: the field, not the API's `body.name`.
    assert.match(line ?? '', /^error: invalid name: must be a DNS label.*\(validation_failed\)$/);
    assert.match(issue ?? '', /^ {2}name: must be a DNS label/);
  });

  test('machine add, import with a bad row (report, exit 1), bind, and ls --json', async () => {
    await ok(['tree', 'add', 'cli.pool']);
    assert.equal(await ok(['machine', 'add', 'web-1', '--ip', '10.9.0.1,10.9.0.2', '--node', 'cli.pool', '--status', 'online']), 'added web-1 to cli.pool\n');
    const csv = join(dir, 'machines.csv');
    writeFileSync(csv, 'hostname,ips,nodes,zone\nweb-2,10.9.0.3,cli.pool,z1\nNOT A HOST,10.9.0.4,cli.pool,z1\nweb-3,10.9.0.5,cli.pool,z2\n');
    const imported = await canopy(['machine', 'import', csv]);
    assert.equal(imported.code, 1, 'a failed row makes the import exit 1');
    assert.match(imported.stdout, /^2 +NOT A HOST +FAILED +hostname: must be a lower-case RFC 1123 hostname/m);
    assert.match(imported.stdout, /^1 +web-2 +created/m);
    assert.match(imported.stdout, /created 2, updated 0, failed 1\n$/);

    assert.equal(await ok(['machine', 'bind', 'cli.web', 'web-2']), 'bound web-2 to cli.web\n');
    const listed = await okJson<{ hostname: string; nodes: string[]; ips: string[] }[]>(['machine', 'ls', '--under', 'cli']);
    assert.deepEqual(listed.map((m) => m.hostname), ['web-1', 'web-2', 'web-3']);
    assert.deepEqual(listed.find((m) => m.hostname === 'web-2')?.nodes.sort(), ['cli.pool', 'cli.web']);
    assert.deepEqual(listed[0]?.ips, ['10.9.0.1', '10.9.0.2']);

    const paged = await okJson<{ hostname: string }[]>(['machine', 'ls', '--under', 'cli', '--limit', '1', '--all']);
    assert.equal(paged.length, 3, '--all follows the cursor to the last page');
    const onePage = await canopy(['machine', 'ls', '--under', 'cli', '--limit', '1']);
    assert.match(onePage.stderr, /showing 1 of 3; use --all/);

    await ok(['machine', 'unbind', 'cli.web', 'web-2']);
    assert.deepEqual((await okJson<{ nodes: string[] }>(['machine', 'show', 'web-2'])).nodes, ['cli.pool']);
  });

  test('machine credential issue prints the secret once; ls shows prefixes; revoke refuses it from then on', async () => {
    const issued = await canopy(['machine', 'credential', 'issue', 'web-1', '--name', 'agent']);
    assert.equal(issued.code, 0, issued.stderr);
    const secret = issued.stdout.trim();
    assert.match(secret, /^cnm_[A-Za-z0-9_-]{43}$/);
    assert.match(issued.stderr, /shown only now/);
    const listed = await okJson<{ id: number; name: string; prefix: string }[]>(['machine', 'credential', 'ls', 'web-1']);
    assert.deepEqual(listed.map((c) => [c.name, c.prefix]), [['agent', secret.slice(0, 8)]]);
    assert.match(await ok(['machine', 'credential', 'ls', 'web-1']), new RegExp(`^\\d+ +agent +${secret.slice(0, 8)}… +admin `, 'm'));
    assert.doesNotMatch(await ok(['machine', 'credential', 'ls', 'web-1']), new RegExp(secret));

    const asAgent = () => fetch(`${url}/api/v1/machines/web-1/credentials`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal((await asAgent()).status, 404, 'the agent authenticates, but may not manage credentials');
    assert.equal(await ok(['machine', 'credential', 'revoke', 'web-1', String(listed[0]?.id)]), `revoked credential #${listed[0]?.id} of web-1\n`);
    assert.equal((await asAgent()).status, 401);
    const bad = await canopy(['machine', 'credential', 'revoke', 'web-1', 'x']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /'x' is not an integer/);
  });

  test('discovery register keeps an instance registered until SIGTERM, then drains and deregisters it', async () => {
    await ok(['tree', 'add', 'cli.reg']);
    assert.equal((await s.call('PUT', '/api/v1/services/cli.reg', { ports: [{ name: 'http', port: 8080 }] })).status, 201);
    await ok(['machine', 'add', 'reg-1', '--ip', '10.9.1.1', '--node', 'cli.reg', '--status', 'online']);
    const secret = (await ok(['machine', 'credential', 'issue', 'reg-1'])).trim();

    const child = spawn(NODE, [MAIN, 'discovery', 'register', 'cli.reg', 'reg-1', '8080', '--ttl', '5', '--meta', 'version=9', '--drain', '200', '--json'], {
      env: { PATH: process.env['PATH'], HOME: dir, CANOPY_URL: url, CANOPY_TOKEN: secret, CANOPY_CONFIG: join(dir, 'none.json') },
      cwd: dir,
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const deadline = Date.now() + 20_000;
      while (!stdout.includes('"registered"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const inst = await s.call('GET', '/api/v1/services/cli.reg/instances/reg-1/8080');
      assert.equal(inst.status, 200, stdout);
      assert.deepEqual([inst.body.status, inst.body.meta, inst.body.ip], ['up', { version: '9' }, '10.9.1.1']);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stdout);
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string });
    assert.deepEqual(events.map((e) => e.event), ['registered', 'draining', 'deregistered']);
    assert.equal((await s.call('GET', '/api/v1/services/cli.reg/instances/reg-1/8080')).status, 404);
  });

  test('grant a role to a new user, who can then read the subtree; ls and rm the grant', async () => {
    await ok(['user', 'add', 'carol', '--password-stdin'], { input: 'carol-password-1\n' });
    const granted = await ok(['grant', '--user', 'carol', '--role', 'viewer', 'cli']);
    const id = /\(grant (\d+)\)/.exec(granted)?.[1];
    assert.ok(id, granted);
    const grants = await okJson<{ id: number; subject: string; role: string }[]>(['grant', 'ls', 'cli.web']);
    assert.ok(grants.some((g) => String(g.id) === id && g.subject === 'carol' && g.role === 'viewer'));

    const carolConfig = join(dir, 'carol', 'config.json');
    await ok(['login', '--url', url, '-u', 'carol', '--password-stdin'], { input: 'carol-password-1', config: carolConfig });
    assert.match(await ok(['tree', 'ls', 'cli'], { config: carolConfig }), /^ {2}pool/m);
    const denied = await canopy(['tree', 'add', 'cli.web.x'], { config: carolConfig });
    assert.deepEqual([denied.code, denied.stderr], [1, 'error: not allowed: tree.write on cli.web (forbidden)\n']);

    assert.equal(await ok(['grant', 'rm', id]), `revoked grant ${id}\n`);
    const hidden = await canopy(['tree', 'ls', 'cli'], { config: carolConfig });
    assert.equal(hidden.stderr, "error: node 'cli' not found (not_found)\n");
  });

  test('audit --json lists what the commands changed, newest first', async () => {
    const entries = await okJson<{ id: number; operation: string; actor: string; target: string }[]>(['audit', '--under', 'cli', '--limit', '200']);
    const ops = new Set(entries.map((e) => e.operation));
    // tree.delete is absent: the server scopes ?under= to live nodes, and the removed node is gone.
    for (const op of ['tree.create', 'tree.move', 'tree.rename', 'machine.create', 'machine.bind', 'grant.create', 'grant.revoke']) {
      assert.ok(ops.has(op), `audit lacks ${op}: ${[...ops].join(', ')}`);
    }
    assert.ok(entries.every((e, i) => i === 0 || e.id < entries[i - 1]!.id));
    const two = await okJson<unknown[]>(['audit', '--under', 'cli', '--user', 'admin', '--limit', '2']);
    assert.equal(two.length, 2);
  });

  test('--token beats CANOPY_TOKEN, which beats the config file', async () => {
    const token = (await ok(['token', 'create', 'ci'])).trim();
    const bare = join(dir, 'none', 'config.json');
    const env = { CANOPY_URL: url, CANOPY_TOKEN: token };
    assert.equal((await okJson<{ username: string }>(['whoami'], { env, config: bare })).username, 'admin');
    const flagged = await canopy(['whoami', '--token', 'cnp_bogus'], { env, config: bare });
    assert.equal(flagged.stderr, 'error: invalid or expired token (unauthenticated)\n');
    const overridden = await canopy(['whoami'], { env: { CANOPY_TOKEN: 'cnp_bogus' } });
    assert.equal(overridden.code, 1, 'CANOPY_TOKEN overrides the saved login');
  });

  test('logout forgets the token; then commands say how to log in', async () => {
    const config = join(dir, 'leaving', 'config.json');
    await ok(['login', '--url', url, '-u', 'admin', '--password-stdin'], { input: ADMIN_PASSWORD, config });
    const { token } = JSON.parse(readFileSync(config, 'utf8')) as { token: string };
    assert.match(await ok(['logout'], { config }), /^logged out of /);
    assert.equal((JSON.parse(readFileSync(config, 'utf8')) as { token?: string }).token, undefined);
    const r = await canopy(['whoami'], { config });
    assert.equal(r.stderr, `error: not logged in to ${url}: run \`canopy login\` or set CANOPY_TOKEN\n`);
    const reused = await canopy(['whoami', '--token', token], { config });
    assert.equal(reused.code, 1, 'the session ended on the server too');
  });

  test('help lists every command group without a server, and lb is wired in', async () => {
    const help = await ok(['--help'], { config: join(dir, 'none', 'config.json') });
    for (const cmd of ['login', 'logout', 'whoami', 'tree', 'machine', 'user', 'grant', 'audit', 'lb']) assert.match(help, new RegExp(`^ {2}${cmd} `, 'm'));
    assert.equal(await ok(['lb', '-a', 'wrr', '-s', 'a:80=2,b:80', '-n', '3']), '1\ta:80\n2\tb:80\n3\ta:80\n');
    const bad = await canopy(['lb', '-a', 'wrr', '-s', 'nope', '-n', '1']);
    assert.match(bad.stderr, /^error: invalid --servers: .*\(validation_failed\)\n {2}servers\.0: /);
  });
});
