/** @canopy/sdk: the typed API client (and, later, the discovery client) for apps, the CLI and the console. */
export * from './client.ts';
