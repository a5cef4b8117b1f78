/**
 * SSH access from the tree: grants `machine.login`/`machine.sudo` and users' keys become each
 * machine's `ssh` document (accounts, keys, sudo, break-glass keys, cache validity), which the
 * agent turns into accounts, a sudoers drop-in and the answers of sshd's AuthorizedKeysCommand;
 * logins come back on the `ssh.logins` stream. Routes in routes.ts.
 */
export { createSshService, SSH_DOC, LOGIN_STREAM, type SshService, type SshOptions } from './service.ts';
export { sshRoutes } from './routes.ts';
export { SSH_TOPIC } from './model.ts';
export { newEd25519, fingerprintOf } from './keys.ts';
export { signCertificate, caPublic, type CaKey } from './cert.ts';
