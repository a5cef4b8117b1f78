/**
 * Rendering of an ENC answer: the YAML document Puppet's exec node terminus reads, and the
 * human-readable `--explain` text.
 *
 * Puppet loads ENC output with Ruby's Psych (`YAML.safe_load`, YAML 1.1, Symbol allowed), which
 * reads far more plain scalars as non-strings than YAML 1.2 does: `yes`/`on` → true, `:x` →
 * Symbol, `1:20` → 4800, `2001-12-14` → Date (refused), and `1e+21` → a *string*. So every string,
 * key included, is written double-quoted and ASCII-only (everything else escaped), and every
 * non-integer number is written with a decimal point and a signed exponent. A `<<` key (a merge
 * key to Psych, even quoted) carries an explicit `!!str` tag.
 */
import { stringify } from 'yaml';
import type { ScalarTag } from 'yaml';
import type { EncClasses, EncResult, EncValue, ExplainEntry } from '@canopy/core';

/** The part of an answer Puppet sees. */
export interface EncDocument {
  classes: EncClasses;
  parameters: Record<string, EncValue>;
  environment: string;
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r' };

/**
 * `s` as a YAML double-quoted scalar that Psych and the `yaml` package both read back as `s`. The
 * result is pure ASCII: anything else is a `\u`/`\U` escape, so the document survives a
 * Puppet running under LANG=C, which otherwise fails with "invalid byte sequence in US-ASCII".
 */
export function quoteYamlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const short = SHORT_ESCAPES[ch];
    const c = ch.codePointAt(0)!;
    if (short !== undefined) out += short;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c >= 0xd800 && c <= 0xdfff) throw new Error('cannot render a lone surrogate for Puppet');
    else if (c <= 0xffff) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\U${c.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** `n` as a YAML number Psych reads back as the same value (Integer when safe, else Float). */
export function formatYamlNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`cannot render ${n} for Puppet`);
  if (Object.is(n, -0)) return '-0.0';
  if (Number.isSafeInteger(n)) return String(n);
  const s = JSON.stringify(n);
  const e = s.indexOf('e');
  const mantissa = e < 0 ? s : s.slice(0, e);
  return mantissa.includes('.') ? s : `${mantissa}.0${e < 0 ? '' : s.slice(e)}`;
}

// Placed before the schema's own tags so they win for every string and number; `test` never
// matches because these tags are only for writing, never for reading.
const NEVER = /(?!)/;
const stringTag: ScalarTag = {
  tag: 'tag:yaml.org,2002:str',
  default: true,
  identify: (v) => typeof v === 'string',
  test: NEVER,
  resolve: (s) => s,
  // Psych treats a `<<` key as a merge key even when quoted; only an explicit tag keeps it a string.
  stringify: ({ value }) => (value === '<<' ? `!!str ${quoteYamlString(value)}` : quoteYamlString(String(value))),
};
const numberTag: ScalarTag = {
  tag: 'tag:yaml.org,2002:float',
  default: true,
  identify: (v) => typeof v === 'number',
  test: NEVER,
  resolve: (s) => Number(s),
  stringify: ({ value }) => formatYamlNumber(value as number),
};

/** The ENC YAML document for Puppet: `classes`, `parameters`, `environment`. */
export function renderEncYaml(doc: EncDocument): string {
  const body = { classes: doc.classes, parameters: doc.parameters, environment: doc.environment };
  return stringify(body, {
    customTags: (tags) => [stringTag, numberTag, ...tags],
    directives: true,
    lineWidth: 0,
    aliasDuplicateObjects: false,
  });
}

/** The `--explain` text: the decision, then where every class, parameter and the environment came from. */
export function renderExplain(result: EncResult): string {
  const lines: string[] = [];
  const by = (subject: ExplainEntry['subject']) => result.explain.filter((e) => e.subject === subject);
  lines.push(`host ${result.hostname}: ${result.reason} (from the ${result.source === 'tree' ? 'service tree' : 'provisioning request'})`);
  for (const d of by('decision')) lines.push(`  ${d.message}`);
  for (const e of by('environment')) lines.push(`environment ${e.name}  ← ${e.message}`);
  lines.push('classes:');
  if (by('class').length === 0) lines.push('  (none)');
  for (const e of by('class')) {
    lines.push(`  ${e.name}  ← ${e.message}${sourceNote(e)}`);
    for (const [param, value] of Object.entries(result.classes[e.name] ?? {})) lines.push(`      ${param} = ${show(value)}`);
  }
  lines.push('parameters:');
  for (const e of by('parameter').filter((p) => p.origin !== 'dropped')) {
    lines.push(`  ${e.name} = ${show(result.parameters[e.name] ?? null)}  ← ${e.message}${sourceNote(e)}`);
  }
  const dropped = by('parameter').filter((p) => p.origin === 'dropped');
  if (dropped.length > 0) {
    lines.push('left out:');
    for (const e of dropped) lines.push(`  ${e.name}  ← ${e.message}`);
  }
  return `${lines.join('\n')}\n`;
}

// When the machine's nodes got an item from different places, say which node got it from where.
function sourceNote(e: ExplainEntry): string {
  if (new Set(e.sources.map((s) => s.setOn)).size < 2) return '';
  return ` (${e.sources.map((s) => `${s.node} from ${s.setOn ?? 'nowhere'}`).join('; ')})`;
}

function show(v: EncValue): string {
  return JSON.stringify(v);
}
