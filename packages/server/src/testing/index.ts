export { testBackends, pgliteTemplate, type TestBackend } from './db.ts';
export { startTestServer, ADMIN_PASSWORD, type TestServer, type Reply } from './server.ts';
export { createNodes, mkNodes } from './nodes.ts';
export { createTestHosts, canMakeTestHosts, type TestHost, type TestHosts } from './hosts.ts';
export { startReceiver, type Receiver } from '../alerts/receiver.test-util.ts';
