/** What the control center needs to serve the agent's install: the script, the bundle, the runtime's digest. */
export { renderInstallScript, shellQuote, isInstallUrl, type InstallScriptInput } from './script.ts';
export { agentBundle, runtimeDigest, type AgentBundle, type Artifact } from './bundle.ts';
