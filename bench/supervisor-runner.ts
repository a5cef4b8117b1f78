/**
 * The bench's Canopy side: the agent's supervisor alone in a Node process (what a supervisord
 * process is to Python), running one program until killed. Usage: supervisor-runner.ts STATE_DIR PID_FILE.
 * A second runner on the same state dir adopts the program by pid, as a restarted agent does.
 */
import { ProcessTaskSpec } from '../packages/core/src/index.ts';
import { createSupervisor } from '../packages/agent/src/supervisor/supervisor.ts';

const [stateDir, pidFile] = process.argv.slice(2);
if (!stateDir || !pidFile) throw new Error('usage: supervisor-runner.ts STATE_DIR PID_FILE');
const sup = createSupervisor({ stateDir });
// Restart at once and never call it flapping, as supervisord's autorestart does for a program that stayed up.
const spec = ProcessTaskSpec.parse({
  argv: ['/bin/sh', '-c', `echo $$ > ${pidFile}.tmp && mv ${pidFile}.tmp ${pidFile} && exec sleep 100000`],
  nodeId: 1,
  service: 'bench.app',
  generation: 1,
  restart: { backoffSeconds: 0, flapRestarts: 1000 },
  drainSeconds: 0,
  stopGraceSeconds: 1,
});
await sup.ensure('bench-task', spec);
console.log('ready');
process.on('SIGTERM', () => {
  void sup.stop('bench-task', 'bench over').then(() => process.exit(0));
});
setInterval(() => {}, 1 << 30);
