import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nginxDomainSchema, nginxServiceSchema } from '@canopy/core';
import { attributesSet, domainBodyOf, domainDraftOf, serviceBodyOf, serviceDraftOf, type DomainView, type ServiceDraft } from './model.ts';

describe('nginx form drafts', () => {
  test('a stored service survives the form unchanged: draft → body parses back to the same settings', () => {
    const stored = nginxServiceSchema.parse({
      domainUris: [{ domain: 'a.example.com', uri: '/pay' }, { domain: 'b.example.com', uri: '/' }],
      upstream: 'pay_up',
      port: 8080,
      balance: { method: 'hash', key: '$request_uri', consistent: false },
      attributes: { keepalive: 16, proxy_buffering: false, proxy_next_upstream: ['error', 'http_502'], add_header: [{ name: 'X-A', value: '$host' }] },
    });
    const body = serviceBodyOf(serviceDraftOf(stored, undefined));
    assert.deepEqual(nginxServiceSchema.parse(body), stored);
  });

  test('blank fields are left out so the server defaults apply; tri-state booleans map to true/false', () => {
    const draft: ServiceDraft = {
      domainUris: [{ domain: 'a.example.com', uri: ' /api ' }],
      upstream: '  ',
      port: 9000,
      balance: { method: 'ip_hash', key: 'ignored', consistent: true },
      attributes: { keepalive: null, fail_timeout: '', proxy_request_buffering: 'on', proxy_next_upstream: [], proxy_set_header: [{ name: '', value: '' }] },
    };
    const body = serviceBodyOf(draft);
    assert.deepEqual(body, { domainUris: [{ domain: 'a.example.com', uri: '/api' }], port: 9000, balance: { method: 'ip_hash' }, attributes: { proxy_request_buffering: true } });
    assert.ok(nginxServiceSchema.safeParse(body).success);
    assert.equal(attributesSet(draft.attributes), 1, 'only the on/off choice is set; a blank header row is not');
  });

  test('a new service starts with one / row on the instances’ port and nginx’s default balancing', () => {
    const d = serviceDraftOf(null, 8081);
    assert.deepEqual([d.domainUris, d.port, d.balance.method], [[{ uri: '/' }], 8081, 'wrr']);
  });

  test('certificate paths are sent only while a port uses ssl, so switching ssl off saves', () => {
    const view: DomainView = { domain: 'a.example.com', ports: [{ port: 443, ssl: true }], sslCertPath: '/c.pem', sslCertKeyPath: '/c.key', owner: null, ownerHidden: false, delegations: [], hiddenDelegations: 0, clusters: [], version: 1, updatedAt: '', updatedBy: '' };
    const draft = domainDraftOf(view);
    assert.deepEqual(nginxDomainSchema.parse({ domain: 'a.example.com', ...domainBodyOf(draft) }).sslCertPath, '/c.pem');
    const plain = domainBodyOf({ ...draft, ports: [{ port: 80, ssl: false }], accessLogPath: ' ' });
    assert.deepEqual(plain, { ports: [{ port: 80, ssl: false }] });
    assert.ok(nginxDomainSchema.safeParse({ domain: 'a.example.com', ...plain }).success);
  });
});

describe('domain owners', () => {
  test('a new domain sends its owner; an edit keeps it; hidden owners are never named', async () => {
    const { domainBodyOf, domainDraftOf, ownerLabel } = await import('./model.ts');
    assert.deepEqual(domainBodyOf({ domain: 'a.example.com', ports: [{ port: 80 }], owner: ' corp.pay ' }), { ports: [{ port: 80, ssl: false }], owner: 'corp.pay' });
    assert.equal('owner' in domainBodyOf({ domain: 'a.example.com', ports: [{ port: 80 }], owner: '' }), false);
    const view = { domain: 'a.example.com', ports: [{ port: 80, ssl: false }], owner: 'corp.pay', ownerHidden: false, delegations: [], hiddenDelegations: 0, clusters: [], version: 1, updatedAt: '', updatedBy: 'pam' };
    assert.deepEqual(domainDraftOf(view), { domain: 'a.example.com', ports: [{ port: 80, ssl: false }], owner: 'corp.pay' });
    assert.equal(ownerLabel({ owner: null, ownerHidden: true }), 'a node you cannot see');
  });
});
