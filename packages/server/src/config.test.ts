/** The settings this file's owner added: HTTPS files and the public URL the agent install carries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@canopy/core';
import { loadConfig } from './config.ts';

const refused = (env: Record<string, string>, field: string) =>
  assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ValidationError && err.issues.some((i) => i.path[0] === field), JSON.stringify(env));

test('CANOPY_TLS_CERT and CANOPY_TLS_KEY are read together or not at all', () => {
  assert.deepEqual([loadConfig({}).tlsCert, loadConfig({}).tlsKey], [undefined, undefined]);
  const c = loadConfig({ CANOPY_TLS_CERT: '/etc/canopy/cert.pem', CANOPY_TLS_KEY: '/etc/canopy/key.pem' });
  assert.deepEqual([c.tlsCert, c.tlsKey], ['/etc/canopy/cert.pem', '/etc/canopy/key.pem']);
  refused({ CANOPY_TLS_CERT: '/etc/canopy/cert.pem' }, 'tlsKey');
  refused({ CANOPY_TLS_KEY: '/etc/canopy/key.pem' }, 'tlsKey');
});

test('CANOPY_PUBLIC_URL must be an http(s) origin: scheme, host and port', () => {
  assert.equal(loadConfig({ CANOPY_PUBLIC_URL: 'https://canopy.example.com:7443/' }).publicUrl, 'https://canopy.example.com:7443');
  for (const bad of ['canopy.example.com', 'ftp://canopy.example.com', 'https://canopy.example.com/?x=1', 'https://h/#f', 'https://h/sub', "https://u:p@h"]) refused({ CANOPY_PUBLIC_URL: bad }, 'publicUrl');
});
