/**
 * What every command gets: the connection (flags, then env, then the config file), an API client,
 * and output that is a table for people or raw JSON for scripts.
 */
import type { Command } from 'commander';
import { createClient, type CanopyClient } from '@canopy/sdk/client';
import { DEFAULT_URL, configPath, readConfig, type CliConfig } from './config.ts';
import { json, UsageError } from './output.ts';

export interface Connection {
  url: string;
  token: string | undefined;
  /** The config file consulted (and written by `canopy login`). */
  configPath: string;
  config: CliConfig;
}

export interface CliContext {
  /** URL and token: `--url`/`--token`, then CANOPY_URL/CANOPY_TOKEN, then the config file. */
  connection(): Connection;
  /**
   * A client for the resolved connection; a missing token is a UsageError telling how to log in.
   * `anonymous` leaves the token out (login).
   */
  client(opts?: { anonymous?: boolean }): CanopyClient;
  /** Write to stdout. */
  out(text: string): void;
  /** A remark for people on stderr (hints, warnings), kept out of stdout so pipes stay clean. */
  note(text: string): void;
  /** `data` as JSON when `asJson`, else the human rendering. */
  print(asJson: boolean | undefined, data: unknown, human: () => string): void;
}

/** Options every command may carry; `--url` and `--token` live on the program so they go anywhere. */
export interface JsonOption {
  json?: boolean;
}

/** Add `--json` to a command. */
export function withJson(cmd: Command): Command {
  return cmd.option('--json', 'print raw JSON (for scripts)');
}

/** The context for commands of `program`, read lazily once the command line is parsed. */
export function createContext(program: Command, env: NodeJS.ProcessEnv = process.env): CliContext {
  let conn: Connection | undefined;

  function connection(): Connection {
    if (conn) return conn;
    const flags = program.opts<{ url?: string; token?: string }>();
    const path = configPath(env);
    const config = readConfig(path);
    const url = flags.url || env['CANOPY_URL'] || config.url || DEFAULT_URL;
    if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`server URL '${url}' must start with http:// or https://`);
    const token = flags.token || env['CANOPY_TOKEN'] || config.token || undefined;
    conn = { url, token, configPath: path, config };
    return conn;
  }

  const out = (text: string) => void process.stdout.write(text);
  return {
    connection,
    client(opts = {}) {
      const c = connection();
      if (opts.anonymous) return createClient({ url: c.url });
      if (!c.token) throw new UsageError(`not logged in to ${c.url}: run \`canopy login\` or set CANOPY_TOKEN`);
      return createClient({ url: c.url, token: c.token });
    },
    out,
    note: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    print(asJson, data, human) {
      out(asJson ? json(data) : human());
    },
  };
}
