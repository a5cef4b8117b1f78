#!/usr/bin/env node
/**
 * `canopy`: the command-line client's entry. It stays tiny on purpose: the compile cache must be on
 * before the rest of the CLI loads, and only what the command needs is loaded at all.
 */
import { enableCompileCache } from 'node:module';

// Node keeps the type-stripped, compiled code of everything imported below in its cache (under the
// OS temp dir), which takes tens of milliseconds off every later run; without a writable cache it
// simply does nothing.
enableCompileCache();
const { main } = await import('./program.ts');
process.exitCode = await main(process.argv.slice(2));
