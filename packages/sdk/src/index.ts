/** @canopy/sdk: the typed API client and the discovery client for apps, the CLI and the console. */
export * from './client.ts';
export * from './discovery/index.ts';
