#!/usr/bin/env node
/**
 * `canopy-enc HOSTNAME`: the standalone entry of `canopy enc` for Puppet's `external_nodes`, which
 * runs it once per agent run. It loads one small module (no commander, no zod), so a call costs
 * little more than Node's start-up and one HTTP request. See commands/enc.ts for the wrapper script.
 */
import { enableCompileCache } from 'node:module';

enableCompileCache();
const { runEnc } = await import('./commands/enc.ts');
process.exitCode = await runEnc(process.argv.slice(2));
