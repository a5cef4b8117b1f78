/** `canopy user|role|token …` for account administration, run as a subprocess against a live server. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_MAIN, runNode, startCliServer, type CliServer, type Run } from '../cli-harness.test-util.ts';

const DAY = 86400_000;

describe('canopy account administration against a live server', () => {
  let c: CliServer;
  /** Run as admin (the harness's API token), or with `token`, or from a saved login in `config`. */
  function canopy(args: string[], opts: { input?: string; token?: string; config?: string } = {}): Promise<Run> {
    const env = { PATH: process.env['PATH'], HOME: c.dir, CANOPY_URL: c.url, CANOPY_CONFIG: opts.config ?? join(c.dir, 'none.json'), CANOPY_TOKEN: opts.config ? undefined : (opts.token ?? c.token) };
    return runNode(CLI_MAIN, args, { env, cwd: c.dir, ...(opts.input !== undefined ? { input: opts.input } : {}) });
  }
  async function ok(args: string[], opts: Parameters<typeof canopy>[1] = {}): Promise<string> {
    const r = await canopy(args, opts);
    assert.equal(r.code, 0, `canopy ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }
  const okJson = async (args: string[], opts: Parameters<typeof canopy>[1] = {}) => JSON.parse(await ok([...args, '--json'], opts));
  async function fails(args: string[], stderr: RegExp, opts: Parameters<typeof canopy>[1] = {}): Promise<void> {
    const r = await canopy(args, opts);
    assert.equal(r.code, 1, `canopy ${args.join(' ')} should fail: ${r.stdout}`);
    assert.match(r.stderr, stderr);
  }
  const mkUser = (name: string) => ok(['user', 'add', name, '--password-stdin'], { input: `pw-of-${name}\n` });
  const me = async (token: string) => (await c.s.call('GET', '/api/v1/auth/me', undefined, { token })).status;

  before(async () => {
    c = await startCliServer('accounts');
  });
  after(async () => {
    await c.s.close();
    rmSync(c.dir, { recursive: true, force: true });
  });

  test('user passwd changes your own password with the current one and keeps you logged in', async () => {
    await mkUser('kai');
    const config = join(c.dir, 'kai.json');
    await ok(['login', '--url', c.url, '-u', 'kai', '--password-stdin'], { input: 'pw-of-kai\n', config });
    const elsewhere = await c.s.login('kai', 'pw-of-kai');
    await fails(['user', 'passwd', '--password-stdin'], /current password is wrong \(validation_failed\)\n {2}currentPassword: does not match/, { input: 'not-it\nkais-new-password\n', config });
    await fails(['user', 'passwd', '--password-stdin'], /current one and the new one on two lines/, { input: 'kais-new-password\n', config });

    const out = await ok(['user', 'passwd', '--password-stdin'], { input: 'pw-of-kai\nkais-new-password\n', config });
    assert.equal(out, 'changed the password of kai; your other sessions ended\n');
    assert.equal((await okJson(['whoami'], { config })).username, 'kai', 'the saved session survived');
    assert.equal(await me(elsewhere), 401, 'the other session ended');
    assert.equal(await c.s.login('kai', 'kais-new-password').then(() => 'ok'), 'ok');
  });

  test("user passwd USER (superuser) resets without the old password and revokes the user's tokens; --keep-tokens keeps them", async () => {
    await mkUser('lee');
    const session = await c.s.login('lee', 'pw-of-lee');
    const apiToken = (await okJson(['token', 'create', 'ci'], { token: session })).token as string;
    const u = await okJson(['user', 'passwd', 'lee', '--password-stdin', '--keep-tokens'], { input: 'reset-number-one\n' });
    assert.equal(u.username, 'lee');
    assert.equal(await me(session), 401);
    assert.equal(await me(apiToken), 200);
    assert.equal(await ok(['user', 'passwd', 'lee', '--password-stdin'], { input: 'reset-number-two\n' }), 'changed the password of lee; their sessions ended, API tokens revoked\n');
    assert.equal(await me(apiToken), 401);
  });

  test('user disable, enable and rm (with --json)', async () => {
    await mkUser('max');
    const session = await c.s.login('max', 'pw-of-max');
    assert.equal((await okJson(['user', 'disable', 'max'])).disabled, true);
    assert.equal(await me(session), 401);
    assert.equal(await ok(['user', 'enable', 'max']), 'enabled user max\n');
    const again = await c.s.login('max', 'pw-of-max');
    assert.deepEqual(await okJson(['user', 'rm', 'max']), { removed: 'max' });
    assert.equal(await me(again), 401);
    await fails(['user', 'rm', 'max'], /user 'max' not found \(not_found\)/);
    await fails(['user', 'rm', 'kai'], /not allowed: delete users/, { token: await c.s.login('kai', 'kais-new-password') });
  });

  test('role edit adds, removes and replaces operations; role rm needs --force while granted', async () => {
    await c.s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'rolecli' });
    await ok(['role', 'add', 'auditor', '--op', 'tree.read']);
    assert.deepEqual((await okJson(['role', 'edit', 'auditor', '--add-op', 'audit.read,grant.read'])).operations, ['tree.read', 'audit.read', 'grant.read']);
    assert.deepEqual((await okJson(['role', 'edit', 'auditor', '--remove-op', 'grant.read'])).operations, ['tree.read', 'audit.read']);
    assert.equal(await ok(['role', 'edit', 'auditor', '--op', 'tree.read', '--description', 'reads']), 'changed role auditor: tree.read\n');
    await fails(['role', 'edit', 'viewer', '--add-op', 'tree.write'], /built in/);
    await fails(['role', 'edit', 'auditor'], /nothing to change/);

    await mkUser('ned');
    const granted = await ok(['grant', '--user', 'ned', '--role', 'auditor', 'rolecli']);
    const id = /\(grant (\d+)\)/.exec(granted)?.[1];
    await fails(['role', 'rm', 'auditor'], new RegExp(`still granted: grant\\(s\\) ${id} \\(ned on rolecli\\)`));
    await fails(['grant', '--user', 'ned', '--role', 'auditor', 'rolecli'], new RegExp(`already holds role 'auditor' on rolecli \\(grant ${id}\\)`));
    assert.deepEqual(await okJson(['role', 'rm', 'auditor', '--force']), { removed: 'auditor' });
    assert.ok(!(await okJson(['role', 'ls'])).some((r: { name: string }) => r.name === 'auditor'));
  });

  test('token create expires in 90 days by default, --never only when asked; superusers list and revoke anyone\'s', async () => {
    const made = await okJson(['token', 'create', 'default']);
    const left = Date.parse(made.expiresAt) - Date.now();
    assert.ok(left > 89 * DAY && left <= 90 * DAY);
    assert.equal((await okJson(['token', 'create', 'forever', '--never'])).expiresAt, null);
    await fails(['token', 'create', 'x', '--never', '--days', '3'], /--days or --never/);

    await mkUser('ona');
    const ona = await c.s.login('ona', 'pw-of-ona');
    const hers = await okJson(['token', 'create', 'laptop'], { token: ona });
    const all = await okJson(['token', 'ls', '--all']);
    assert.ok(all.some((t: { id: number; username: string }) => t.id === hers.id && t.username === 'ona'));
    assert.deepEqual((await okJson(['token', 'ls', '--user', 'ona'])).map((t: { name: string }) => t.name), ['laptop']);
    assert.match(await ok(['token', 'ls', '--user', 'ona']), /^\d+ +ona +laptop +cnp_\S+ +\S+Z +active$/m);
    await fails(['token', 'ls', '--all'], /not allowed: list other users' tokens/, { token: ona });

    assert.deepEqual(await okJson(['token', 'revoke', String(hers.id)]), { revoked: hers.id });
    assert.equal(await me(hers.token), 401);
    assert.match(await ok(['token', 'ls', '--user', 'ona']), / revoked \d{4}-/);
  });

  test('user logins shows the auth log; group rm needs --force while the group holds grants', async () => {
    await canopy(['login', '--url', c.url, '-u', 'ona', '--password-stdin'], { input: 'wrong-one\n', config: join(c.dir, 'ona.json') });
    const entries = await okJson(['user', 'logins', '--user', 'ona', '--outcome', 'failure']);
    assert.equal(entries[0].outcome, 'failure');
    assert.equal(entries[0].address, '127.0.0.1');
    assert.match(await ok(['user', 'logins', '--user', 'ona']), /^\S+Z +ona +failure +127\.0\.0\.1 /m);

    await ok(['group', 'add', 'ops-team', '--member', 'ona']);
    await ok(['grant', '--group', 'ops-team', '--role', 'viewer', 'rolecli']);
    await fails(['group', 'rm', 'ops-team'], /still holds grant\(s\) \d+ \(viewer on rolecli\)/);
    assert.equal(await ok(['group', 'rm', 'ops-team', '--force']), 'removed group ops-team\n');
  });
});
