/**
 * Where releases live on a machine, as Capistrano lays them out: `<apps>/<service>/releases/<version>`
 * holds each unpacked release, `<apps>/<service>/current` is a symlink to the one last switched to.
 * The switch is one rename(2) of a new symlink over the old one, so a reader of `current` sees the
 * old release or the new one, never neither.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { AgentSettings } from '../exec/controller.ts';

/** The folders of one service's releases. */
export interface ReleaseLayout {
  /** `<apps>/<service>` */
  readonly root: string;
  /** `<apps>/<service>/releases` */
  readonly releases: string;
  /** `<apps>/<service>/current` (a symlink). */
  readonly current: string;
  /** `<apps>/<service>/releases/<version>` */
  dirOf(version: string): string;
}

/** The apps dir: `--apps-dir`, else `<state dir>/apps`. */
export function appsDirOf(stateDir: string, settings: AgentSettings | undefined): string {
  return resolve(settings?.appsDir ?? join(stateDir, 'apps'));
}

/** The layout of `service`'s releases under `appsDir`. */
export function releaseLayout(appsDir: string, service: string): ReleaseLayout {
  // Service paths are dotted node paths (letters, digits, "-", "."): one folder name, never "..".
  if (!/^[a-z0-9][a-z0-9.-]*$/i.test(service) || service.includes('..')) throw new Error(`'${service}' is not a service path`);
  const root = join(appsDir, service);
  const releases = join(root, 'releases');
  return {
    root,
    releases,
    current: join(root, 'current'),
    dirOf: (version) => {
      if (version.includes('/') || version.startsWith('.')) throw new Error(`'${version}' is not a release version`);
      return join(releases, version);
    },
  };
}

/** The release dir `current` points to (absolute), or undefined when there is none yet. */
export function currentDir(layout: ReleaseLayout): string | undefined {
  try {
    return resolve(layout.root, readlinkSync(layout.current));
  } catch {
    return undefined;
  }
}

/** The version `current` points to, or undefined. */
export function currentVersion(layout: ReleaseLayout): string | undefined {
  const dir = currentDir(layout);
  return dir === undefined ? undefined : basename(dir);
}

/**
 * Point `current` at release `version`, atomically: a new symlink under a temp name renamed over
 * it. The link is relative (`releases/<version>`), so the apps dir may be moved whole. Returns the
 * dir it pointed to before.
 */
export function switchCurrent(layout: ReleaseLayout, version: string): string | undefined {
  const before = currentDir(layout);
  const target = layout.dirOf(version);
  mkdirSync(dirname(layout.current), { recursive: true });
  const tmp = `${layout.current}.tmp-${randomUUID().slice(0, 8)}`;
  try {
    symlinkSync(join('releases', basename(target)), tmp);
    renameSync(tmp, layout.current);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return before;
}
