import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuditQuery,
  CreateGroupInput,
  CreateMachineInput,
  CreateNodeInput,
  CreateRoleInput,
  CreateTokenInput,
  CreateUserInput,
  ListMachinesQuery,
  ListNodesQuery,
  LoginInput,
  PatchNodeInput,
  PatchUserInput,
} from './index.ts';
import { HeartbeatInput, InstanceInput } from '../discovery/index.ts';
import { catalogSourceSchema, encAssociationInputSchema, encDefaultsSchema } from '../enc/index.ts';

type Schema = { safeParse(v: unknown): { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } } };
interface Field {
  name: string;
  schema: Schema;
  /** The whole input with `text` placed in the field under test. */
  input: (text: string) => unknown;
  /** The path of the issue `a\u0000b` raises. */
  path: PropertyKey[];
  multiline?: boolean;
}

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

/** Every free-text field of the core request schemas: the CLI, SDK, console and server all parse with these. */
const FIELDS: Field[] = [
  { name: 'node description', schema: CreateNodeInput, input: (t) => ({ parentPath: null, name: 'a', description: t }), path: ['description'], multiline: true },
  { name: 'node description (patch)', schema: PatchNodeInput, input: (t) => ({ description: t }), path: ['description'], multiline: true },
  { name: 'node label value', schema: CreateNodeInput, input: (t) => ({ parentPath: null, name: 'a', labels: { team: t } }), path: ['labels', 'team'] },
  { name: 'node search text', schema: ListNodesQuery, input: (t) => ({ q: t }), path: ['q'] },
  { name: 'node label filter', schema: ListNodesQuery, input: (t) => ({ label: `team=${t}` }), path: ['label'] },
  { name: 'machine label value', schema: CreateMachineInput, input: (t) => ({ hostname: 'web1', labels: { role: t } }), path: ['labels', 'role'] },
  { name: 'machine list cursor', schema: ListMachinesQuery, input: (t) => ({ cursor: t }), path: ['cursor'] },
  { name: 'login user name', schema: LoginInput, input: (t) => ({ username: `u${t}`, password: 'pw' }), path: ['username'] },
  { name: 'user display name', schema: CreateUserInput, input: (t) => ({ username: 'ann', displayName: t }), path: ['displayName'] },
  { name: 'user display name (patch)', schema: PatchUserInput, input: (t) => ({ displayName: t }), path: ['displayName'] },
  { name: 'SSH key comment', schema: CreateUserInput, input: (t) => ({ username: 'ann', sshKeys: [`${KEY} ann@${t}`] }), path: ['sshKeys', 0] },
  { name: 'group description', schema: CreateGroupInput, input: (t) => ({ name: 'ops', description: t }), path: ['description'], multiline: true },
  { name: 'role description', schema: CreateRoleInput, input: (t) => ({ name: 'ops', description: t, operations: ['tree.read'] }), path: ['description'], multiline: true },
  { name: 'token name', schema: CreateTokenInput, input: (t) => ({ name: `ci ${t}` }), path: ['name'] },
  { name: 'audit user filter', schema: AuditQuery, input: (t) => ({ user: t }), path: ['user'] },
  { name: 'audit operation filter', schema: AuditQuery, input: (t) => ({ operation: t }), path: ['operation'] },
  { name: 'instance meta value', schema: InstanceInput, input: (t) => ({ meta: { version: t } }), path: ['meta', 'version'] },
  { name: 'heartbeat output', schema: HeartbeatInput, input: (t) => ({ output: t }), path: ['output'], multiline: true },
  { name: 'Puppet class parameter value', schema: encDefaultsSchema, input: (t) => ({ classes: { motd: { text: t } } }), path: ['classes', 'motd', 'text'], multiline: true },
  { name: 'Puppet top-scope value in a hash', schema: encAssociationInputSchema, input: (t) => ({ parameters: { dns: { servers: [t] } } }), path: ['parameters', 'dns', 'servers', 0], multiline: true },
  { name: 'Puppet value hash key', schema: encAssociationInputSchema, input: (t) => ({ parameters: { dns: { [`k${t}`]: 1 } } }), path: ['parameters', 'dns', 'ka\u0000b'] },
];

function issueAt(f: Field, text: string): string | undefined {
  const r = f.schema.safeParse(f.input(text));
  if (r.success) return undefined;
  return r.error!.issues.map((i) => `${JSON.stringify(i.path)} ${i.message}`).join('; ');
}

describe('every free-text field of the core schemas', () => {
  test('accepts ordinary text, accents, CJK and emoji', () => {
    for (const f of FIELDS) assert.equal(issueAt(f, 'Équipe 支付 🌳 ok'), undefined, f.name);
  });

  test('refuses NUL with an issue naming the field and the character', () => {
    for (const f of FIELDS) {
      const r = f.schema.safeParse(f.input('a\u0000b'));
      assert.ok(!r.success, f.name);
      const nul = r.error!.issues.find((i) => /NUL character/.test(i.message));
      assert.ok(nul, `${f.name}: ${issueAt(f, 'a\u0000b')}`);
      assert.deepEqual(nul.path, f.path, f.name);
    }
  });

  test('refuses lone surrogates, high and low', () => {
    for (const f of FIELDS) {
      for (const bad of ['\ud800', 'x\udc00']) assert.match(issueAt(f, bad) ?? 'accepted', /unpaired UTF-16 surrogate/, `${f.name} ${JSON.stringify(bad)}`);
    }
  });

  test('refuses terminal escapes everywhere, and newlines in one-line fields only', () => {
    for (const f of FIELDS) {
      assert.match(issueAt(f, 'red\u001b[31m') ?? 'accepted', /control characters/, f.name);
      const lines = issueAt(f, 'first line\n\tsecond line\r\n');
      if (f.multiline) assert.equal(lines, undefined, f.name);
      else assert.match(lines ?? 'accepted', /control characters/, f.name);
    }
  });
});

describe('stricter schemas stay as strict', () => {
  test('names, paths and hostnames still refuse what their grammar refuses', () => {
    assert.ok(!CreateNodeInput.safeParse({ parentPath: null, name: 'Bad Name' }).success);
    assert.ok(!CreateNodeInput.safeParse({ parentPath: 'a..b', name: 'ok' }).success);
    assert.ok(!CreateMachineInput.safeParse({ hostname: 'Web_1' }).success);
    assert.ok(!CreateUserInput.safeParse({ username: 'Ann' }).success);
    assert.ok(!CreateUserInput.safeParse({ username: 'ann', sshKeys: [`${KEY}\nssh-rsa AAAA`] }).success);
  });

  test('the classes catalog URL refuses control characters that new URL() would accept', () => {
    assert.ok(catalogSourceSchema.safeParse({ url: 'https://puppet.example/classes.json' }).success);
    for (const url of ['https://puppet.example/a\u0000b', 'https://puppet.example/\u001b[2J', 'https://puppet.example/\ud800']) {
      assert.ok(!catalogSourceSchema.safeParse({ url }).success, JSON.stringify(url));
    }
  });
});
