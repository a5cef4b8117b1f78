/** The agent package's door: the daemon and the pieces tests and benchmarks drive directly. */
export { startDaemon, AGENT_VERSION, type Daemon, type DaemonOptions } from './daemon.ts';
export { enroll } from './enroll.ts';
export { readFacts } from './facts.ts';
export { checkTransport, fingerprintOf } from './session.ts';
