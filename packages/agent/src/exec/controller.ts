/** The one interface every task kind's controller implements (SwarmKit's exec.Controller). */
import type { Storage, StoredTask } from '../storage.ts';

/** A controller operation's failure; `temporary` retries, `exitCode` is the task's own exit. */
export class TaskError extends Error {
  readonly temporary: boolean;
  readonly exitCode: number | undefined;
  constructor(message: string, opts: { temporary?: boolean; exitCode?: number | undefined } = {}) {
    super(message);
    this.temporary = opts.temporary ?? false;
    this.exitCode = opts.exitCode;
  }
}

/** What a controller may use. */
export interface TaskContext {
  readonly task: StoredTask;
  /** The task's own folder in the state dir. */
  readonly dir: string;
  readonly storage: Storage;
  /** Persist `task` (after changing its pid, times…). */
  save(): void;
  /** The agent's hostname, as the control center knows it. */
  readonly hostname: string;
  /** The agent's own settings some kinds need (absent: the defaults). */
  readonly settings?: AgentSettings | undefined;
  /** The control center this agent's session talks to, for downloads (absent: kinds that need it refuse). */
  readonly controlCenter?: ControlCenter | undefined;
}

/** Where the control center is and how to call it: the session's URL, machine credential and CA. */
export interface ControlCenter {
  /** `https://cc:7070` */
  readonly url: string;
  /** The machine credential (`cnm_…`). */
  readonly token: string;
  /** PEM of the CA that signed the control center's certificate. */
  readonly caPem?: string | undefined;
}

/** Agent flags that controllers read. */
export interface AgentSettings {
  /** Read the boot id from this file instead of the kernel (test hosts share one kernel). */
  bootIdFile?: string | undefined;
  /** The reboot command as argv; default `systemctl reboot` under systemd, else `/sbin/reboot`. */
  rebootCommand?: string[] | undefined;
  /** Seconds after the reboot command exited before a machine still on its old boot counts as not rebooted; default 300. */
  rebootGraceSeconds?: number | undefined;
  /** The local nginx `config` tasks write into (`--nginx-*`); unset: nginx configs are refused. */
  nginx?: NginxTarget | undefined;
  /** The local keepalived `config` tasks write (`--keepalived-*`); unset: LVS configs are refused. */
  keepalived?: KeepalivedTarget | undefined;
  /** Access-log counting (`--access-log-*`): where relative log files are, the window length. */
  accessLog?: { dir?: string | undefined; intervalSeconds?: number | undefined } | undefined;
  /** Machine metrics (`--metrics-*`): the /metrics listen address, the collection interval. */
  metrics?: import('../metrics/module.ts').MetricsSettings | undefined;
  /** Where releases are unpacked (`--apps-dir`): `<apps>/<service>/releases/<version>`; default `<state dir>/apps`. */
  appsDir?: string | undefined;
  /** SSH access from the tree (`--ssh-*`); unset: the SSH module stays idle. */
  ssh?: import('../ssh/module.ts').SshSettings | undefined;
}

/** The nginx this agent manages: its main config, the include dir it owns, the binary, the pid file. */
export interface NginxTarget {
  conf: string;
  includeDir: string;
  bin: string;
  /** With it, a reload is confirmed by new worker processes of this master. */
  pidFile?: string | undefined;
}

/** The keepalived this agent manages: the config file it owns, its pid file, the binary. */
export interface KeepalivedTarget {
  conf: string;
  pidFile: string;
  bin: string;
}

/** Drives one task through its kind's work; every method may be called again after a restart. */
export interface Controller {
  prepare(): Promise<void>;
  start(): Promise<void>;
  /**
   * Resolves with the exit code when the work ended well; throws TaskError otherwise. `signal` aborts
   * the wait (not the work) when the desired state changes, with a temporary error.
   */
  wait(signal: AbortSignal): Promise<number | undefined>;
  shutdown(): Promise<void>;
  remove(): Promise<void>;
  /** The message to report with a new state, instead of the lifecycle's own (optional). */
  message?(state: number): string | undefined;
  /** Output produced so far, for live reports (optional: kinds without output omit it). */
  output?(): OutputSource | undefined;
}

/** Where a task's stdout and stderr can be read. */
export interface OutputSource {
  stdoutPath: string;
  stderrPath: string;
  limitBytes: number;
}

export type ControllerFactory = (ctx: TaskContext) => Controller;
