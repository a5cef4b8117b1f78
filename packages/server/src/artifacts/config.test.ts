import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@canopy/core';
import { artifactOptionsFromEnv } from './config.ts';

test('defaults: blobs in the data dir, 20 versions kept, 30 days of deployed ones, no S3', () => {
  const o = artifactOptionsFromEnv({ CANOPY_DATA_DIR: '/var/lib/canopy' });
  assert.equal(o.dir, '/var/lib/canopy/artifacts');
  assert.deepEqual(o.retention, { keepLast: 20, keepDeployedDays: 30 });
  assert.equal(o.s3, undefined);
  assert.ok(Object.isFrozen(o));
});

test('a bucket switches storage to S3; a self-hosted endpoint means path-style URLs', () => {
  const o = artifactOptionsFromEnv({
    CANOPY_ARTIFACTS_S3_BUCKET: 'canopy-artifacts',
    CANOPY_ARTIFACTS_S3_ENDPOINT: 'http://127.0.0.1:9000',
    CANOPY_ARTIFACTS_S3_ACCESS_KEY_ID: 'k',
    CANOPY_ARTIFACTS_S3_SECRET_ACCESS_KEY: 's',
    CANOPY_ARTIFACTS_S3_PREFIX: 'prod/',
  });
  assert.deepEqual(o.s3, { bucket: 'canopy-artifacts', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's', prefix: 'prod/', forcePathStyle: true });
});

test('bad settings name the variable and why', () => {
  const issues = (env: NodeJS.ProcessEnv) => {
    try {
      artifactOptionsFromEnv(env);
    } catch (err) {
      assert.ok(err instanceof ValidationError);
      return err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    }
    return 'accepted';
  };
  assert.match(issues({ CANOPY_ARTIFACTS_S3_BUCKET: 'Bad_Bucket' }), /^CANOPY_ARTIFACTS_S3_BUCKET: /);
  assert.match(issues({ CANOPY_ARTIFACTS_S3_BUCKET: 'ok-bucket', CANOPY_ARTIFACTS_S3_ACCESS_KEY_ID: 'k' }), /go together/);
  assert.match(issues({ CANOPY_ARTIFACTS_S3_ENDPOINT: 'http://minio:9000' }), /without CANOPY_ARTIFACTS_S3_BUCKET/);
  assert.match(issues({ CANOPY_ARTIFACTS_KEEP_LAST: '0' }), /CANOPY_ARTIFACTS_KEEP_LAST: /);
  assert.match(issues({ CANOPY_ARTIFACTS_S3_BUCKET: 'ok-bucket', CANOPY_ARTIFACTS_S3_PREFIX: 'no-slash' }), /end with "\/"/);
});
