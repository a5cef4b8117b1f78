import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MARKER } from '../artifacts/index.ts';
import { appsDirOf, currentDir, currentVersion, listReleases, pruneReleases, releaseLayout, switchCurrent, type ReleaseLayout } from './index.ts';

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'canopy-releases-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** An unpacked release `version` whose marker says it was unpacked at `at` (seconds) with digest `sha`. */
function unpacked(layout: ReleaseLayout, version: string, at: number, sha = version.padEnd(64, '0').slice(0, 64)): string {
  const dir = layout.dirOf(version);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'app.txt'), `this is ${version}\n`);
  writeFileSync(join(dir, MARKER), `${sha}\n`);
  utimesSync(join(dir, MARKER), at, at);
  return dir;
}

describe('release layout', () => {
  test('the apps dir is <state dir>/apps unless --apps-dir names one', () => {
    assert.equal(appsDirOf('/var/lib/canopy-agent', undefined), '/var/lib/canopy-agent/apps');
    assert.equal(appsDirOf('/var/lib/canopy-agent', { appsDir: '/srv/apps' }), '/srv/apps');
  });

  test('releases live under <apps>/<service>/releases/<version>, current beside them', () => {
    const l = releaseLayout('/srv/apps', 'corp.pay.api');
    assert.equal(l.dirOf('1.4.2'), '/srv/apps/corp.pay.api/releases/1.4.2');
    assert.equal(l.current, '/srv/apps/corp.pay.api/current');
    assert.throws(() => l.dirOf('../etc'));
    assert.throws(() => releaseLayout('/srv/apps', '../etc'));
  });

  test('switching current points it at the new release with one rename, leaving no temp link', () => {
    const l = releaseLayout(join(work, 'switch'), 'corp.web');
    unpacked(l, '1.0.0', 1000);
    unpacked(l, '1.1.0', 2000);
    assert.equal(currentVersion(l), undefined);
    assert.equal(switchCurrent(l, '1.0.0'), undefined);
    assert.equal(readFileSync(join(l.current, 'app.txt'), 'utf8'), 'this is 1.0.0\n');
    assert.equal(switchCurrent(l, '1.1.0'), l.dirOf('1.0.0'), 'says where it pointed before');
    assert.ok(lstatSync(l.current).isSymbolicLink());
    assert.equal(readlinkSync(l.current), 'releases/1.1.0', 'relative, so the apps dir can move');
    assert.equal(currentDir(l), l.dirOf('1.1.0'));
    assert.equal(readFileSync(join(l.current, 'app.txt'), 'utf8'), 'this is 1.1.0\n');
    assert.deepEqual(readdirSync(l.root).sort(), ['current', 'releases']);
  });

  test('a process started in a release dir keeps it when current moves on', () => {
    const l = releaseLayout(join(work, 'cwd'), 'corp.web');
    unpacked(l, 'a', 1000);
    unpacked(l, 'b', 2000);
    switchCurrent(l, 'a');
    const runsIn = currentDir(l)!;
    switchCurrent(l, 'b');
    assert.equal(readFileSync(join(runsIn, 'app.txt'), 'utf8'), 'this is a\n');
  });
});

describe('keeping releases', () => {
  test('lists releases newest first, not the unpacks in progress', () => {
    const l = releaseLayout(join(work, 'list'), 'corp.x');
    unpacked(l, 'old', 1000);
    unpacked(l, 'new', 3000);
    unpacked(l, 'mid', 2000);
    mkdirSync(join(l.releases, 'next.unpack-0a1b2c3d'));
    assert.deepEqual(listReleases(l).map((r) => r.version), ['new', 'mid', 'old']);
  });

  test('deletes the oldest beyond keep with their cached artifacts, never current nor one in use', () => {
    const l = releaseLayout(join(work, 'prune'), 'corp.y');
    const cache = join(work, 'prune-cache');
    mkdirSync(cache, { recursive: true });
    const shas = new Map<string, string>();
    for (let i = 1; i <= 7; i++) {
      const sha = String(i).repeat(64);
      shas.set(`v${i}`, sha);
      unpacked(l, `v${i}`, 1000 * i, sha);
      writeFileSync(join(cache, `${sha}.artifact`), 'bytes');
    }
    switchCurrent(l, 'v1'); // rolled back to the oldest
    const removed = pruneReleases(l, { keep: 3, cacheDir: cache, inUse: [l.dirOf('v2')] });
    assert.deepEqual(removed.sort(), ['v3', 'v4']);
    assert.deepEqual(readdirSync(l.releases).sort(), ['v1', 'v2', 'v5', 'v6', 'v7']);
    for (const v of ['v3', 'v4']) assert.equal(existsSync(join(cache, `${shas.get(v)}.artifact`)), false, `${v}'s artifact removed`);
    for (const v of ['v1', 'v5']) assert.ok(existsSync(join(cache, `${shas.get(v)}.artifact`)), `${v}'s artifact kept`);
    assert.deepEqual(pruneReleases(l, { keep: 3, cacheDir: cache, inUse: [l.dirOf('v2')] }), [], 'a second prune has nothing to do');
  });
});
