/**
 * The CLI's config file (`~/.config/canopy/config.json`, or `$CANOPY_CONFIG`): the server URL and
 * the session token `canopy login` obtained. It holds a secret, so it is written 0600 in a 0700
 * directory, atomically, and a malformed file is reported rather than silently replaced.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from './output.ts';

/** Where the server listens when nothing else says (the server's CANOPY_PORT default). */
export const DEFAULT_URL = 'http://127.0.0.1:7070';

export interface CliConfig {
  url?: string;
  token?: string;
  /** Who logged in, for `canopy logout` messages; informational only. */
  username?: string;
  expiresAt?: string;
}

/** Path of the config file: `$CANOPY_CONFIG`, else `$XDG_CONFIG_HOME/canopy/config.json`, else `~/.config/…`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['CANOPY_CONFIG'];
  if (explicit) return explicit;
  return join(env['XDG_CONFIG_HOME'] || join(homedir(), '.config'), 'canopy', 'config.json');
}

/** The config at `path`; `{}` when there is none yet. */
export function readConfig(path: string): CliConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError(`config file ${path} is not valid JSON; fix it or run \`canopy login\` after removing it`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UsageError(`config file ${path} must hold a JSON object`);
  const out: CliConfig = {};
  for (const key of ['url', 'token', 'username', 'expiresAt'] as const) {
    const v = (data as Record<string, unknown>)[key];
    if (typeof v === 'string') out[key] = v;
  }
  return out;
}

/** Replace the config at `path` with `cfg`, readable by its owner only. */
export function writeConfig(path: string, cfg: CliConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(cfg, null, 2)}\n`, { mode: 0o600 });
  // The mode given to writeFileSync is masked by the umask; make it exact.
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
