/** The real keepalived, run on a generated config with `keepalived -t` (config test mode). */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFullnatStructure, toStockKeepalived, usesFullnat } from './fullnat.ts';

/** Outcome of checking a keepalived config. */
export interface KeepalivedCheck {
  ok: boolean;
  /** keepalived's own output, preceded by Canopy's notes (FULLNAT, ignored warnings). */
  output: string;
  durationMs: number;
  /** True when FULLNAT keywords were present: those were checked structurally, not by keepalived. */
  fullnat: boolean;
  /** Structural problems found in the FULLNAT parts. */
  structuralIssues: string[];
  /** keepalived warnings accepted as intended (see BENIGN). */
  ignoredWarnings: string[];
}

/**
 * Warnings keepalived -t raises for a virtual server whose real servers are all drained (weight
 * 0): quorum cannot be below 1, so keepalived lowers it to 0 and carries on. That is the intended
 * state of a fully drained service, so these two lines alone do not fail the check.
 */
const BENIGN = [
  /^Warning - quorum \d+ for \S+ exceeds total weight of real servers 0, reducing quorum to 0$/,
  /^Virtual server \S+: hysteresis \d+ >= quorum 0; setting hysteresis to \d+$/,
];

/** Absolute path of keepalived, or null when it is not installed. */
export function findKeepalived(): string | null {
  for (const dir of [...(process.env['PATH'] ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/local/sbin', '/sbin']) {
    try {
      accessSync(join(dir, 'keepalived'), constants.X_OK);
      return join(dir, 'keepalived');
    } catch {
      // not in this directory
    }
  }
  return null;
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/**
 * Runs `keepalived -t -f FILE` on the text. FULLNAT-fork keywords are checked structurally in
 * TypeScript and blanked from the copy keepalived sees; the result says so. Throws only when
 * keepalived itself is missing.
 */
export async function checkKeepalivedConfig(text: string): Promise<KeepalivedCheck> {
  const keepalived = findKeepalived();
  if (keepalived === null) throw new Error('keepalived is not installed');
  const started = performance.now();
  const fullnat = usesFullnat(text);
  const structuralIssues = fullnat ? checkFullnatStructure(text) : [];
  const dir = await mkdtemp(join(tmpdir(), 'canopy-keepalived-'));
  try {
    const file = join(dir, 'keepalived.conf');
    await writeFile(file, fullnat ? toStockKeepalived(text) : text);
    const { code, output } = await run(keepalived, ['--config-test', '--all-config', '-f', file]);
    const lines = output.split('\n').filter((l) => l.trim() !== '');
    const ignoredWarnings = lines.filter((l) => BENIGN.some((re) => re.test(l)));
    const onlyBenign = code === 5 && ignoredWarnings.length === lines.length && lines.length > 0;
    const notes: string[] = [];
    if (fullnat) {
      notes.push('canopy: FULLNAT keywords (lb_kind FNAT, syn_proxy, laddr_group_name, local_address_group) checked structurally; stock keepalived checked the rest');
      for (const issue of structuralIssues) notes.push(`canopy: ${issue}`);
    }
    if (onlyBenign) notes.push('canopy: only the all-drained quorum warnings were raised; accepted');
    return {
      ok: (code === 0 || onlyBenign) && structuralIssues.length === 0,
      output: [...notes, output.trimEnd()].filter((s) => s !== '').join('\n'),
      durationMs: performance.now() - started,
      fullnat,
      structuralIssues,
      ignoredWarnings,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
