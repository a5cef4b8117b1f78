/** The error handler: domain errors become problem documents, and a throttled caller learns when to retry. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { CanopyError, ConflictError } from '@canopy/core';
import { installErrorHandling } from './errors.ts';

/** Shaped as auth's LoginThrottledError: a `rate_limited` error that says how long to wait. */
class Throttled extends CanopyError {
  readonly retryAfterSeconds: number;
  constructor(seconds: number) {
    super('rate_limited', `too many attempts; retry in ${seconds} s`);
    this.retryAfterSeconds = seconds;
  }
}

describe('http error handling', () => {
  let app: FastifyInstance;
  before(async () => {
    app = Fastify({ logger: false });
    installErrorHandling(app);
    app.get('/throttled', async () => {
      throw new Throttled(2.2);
    });
    app.get('/throttled-no-wait', async () => {
      throw new CanopyError('rate_limited', 'slow down');
    });
    app.get('/conflict', async () => {
      throw new ConflictError('taken', { path: 'a.b' });
    });
    app.get('/boom', async () => {
      throw new Error('secret detail');
    });
    await app.ready();
  });
  after(() => app.close());

  test('a rate_limited error carrying retryAfterSeconds answers 429 with Retry-After in whole seconds', async () => {
    const res = await app.inject({ method: 'GET', url: '/throttled' });
    assert.equal(res.statusCode, 429);
    assert.equal(res.headers['retry-after'], '3');
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.deepEqual([res.json().code, res.json().detail], ['rate_limited', 'too many attempts; retry in 2.2 s']);
  });

  test('a rate_limited error without a wait answers 429 and sets no Retry-After', async () => {
    const res = await app.inject({ method: 'GET', url: '/throttled-no-wait' });
    assert.equal(res.statusCode, 429);
    assert.equal(res.headers['retry-after'], undefined);
  });

  test('other errors set no Retry-After; details reach the problem, unknown errors do not leak', async () => {
    const conflict = await app.inject({ method: 'GET', url: '/conflict' });
    assert.equal(conflict.statusCode, 409);
    assert.equal(conflict.headers['retry-after'], undefined);
    assert.equal(conflict.json().path, 'a.b');
    const boom = await app.inject({ method: 'GET', url: '/boom' });
    assert.equal(boom.statusCode, 500);
    assert.equal(boom.json().code, 'internal');
    assert.doesNotMatch(boom.body, /secret detail/);
  });
});
