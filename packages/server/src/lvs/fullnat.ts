/**
 * Stock keepalived refuses the FULLNAT fork's keywords (`lb_kind FNAT`, `syn_proxy`,
 * `laddr_group_name`, `local_address_group`). This file checks those parts structurally and
 * produces a stock-compatible copy so the real `keepalived -t` can still check everything else.
 */
import { isIP } from 'node:net';

interface Block {
  words: string[];
  line: number;
  children: Block[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
// The fork also accepts a last-octet range such as 10.0.0.5-20.
const RANGE = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.)(\d{1,3})-(\d{1,3})$/;

function stripComment(line: string): string {
  const m = /[#!]/.exec(line);
  return m === null ? line : line.slice(0, m.index);
}

/** keepalived's block structure; `errors` collects unbalanced braces. */
function parse(text: string, errors: string[]): Block[] {
  const root: Block = { words: [], line: 0, children: [] };
  const stack = [root];
  text.split('\n').forEach((raw, i) => {
    let words: string[] = [];
    const flush = (): void => {
      if (words.length > 0) (stack.at(-1) as Block).children.push({ words, line: i + 1, children: [] });
      words = [];
    };
    for (const tok of stripComment(raw).split(/([{}])|\s+/).filter((t) => t !== undefined && t !== '')) {
      if (tok === '{') {
        const block: Block = { words, line: i + 1, children: [] };
        (stack.at(-1) as Block).children.push(block);
        stack.push(block);
        words = [];
      } else if (tok === '}') {
        flush();
        if (stack.length === 1) errors.push(`line ${i + 1}: '}' without a block`);
        else stack.pop();
      } else words.push(tok);
    }
    flush();
  });
  if (stack.length > 1) errors.push(`line ${(stack.at(-1) as Block).line}: block not closed`);
  return root.children;
}

/** True when the text uses any FULLNAT-only keyword. */
export function usesFullnat(text: string): boolean {
  return text.split('\n').some((l) => /^\s*(?:syn_proxy|laddr_group_name|local_address_group)\b|^\s*lb_kind\s+FNAT\b/.test(stripComment(l)));
}

/** Structural problems with the FULLNAT keywords; empty when they are well placed. */
export function checkFullnatStructure(text: string): string[] {
  const errors: string[] = [];
  const top = parse(text, errors);
  const groups = new Set<string>();
  for (const b of top) {
    if (b.words[0] !== 'local_address_group') continue;
    const name = b.words[1] ?? '';
    if (b.words.length !== 2 || !NAME.test(name)) errors.push(`line ${b.line}: local_address_group needs one valid name`);
    if (groups.has(name)) errors.push(`line ${b.line}: local_address_group ${name} defined twice`);
    groups.add(name);
    if (b.children.length === 0) errors.push(`line ${b.line}: local_address_group ${name} is empty`);
    for (const c of b.children) {
      const addr = c.words[0] ?? '';
      const range = RANGE.exec(addr);
      const okRange = range !== null && isIP(`${range[1]}${range[2]}`) === 4 && Number(range[2]) <= Number(range[3]) && Number(range[3]) <= 255;
      if (c.words.length !== 1 || c.children.length > 0 || (isIP(addr) === 0 && !okRange)) {
        errors.push(`line ${c.line}: '${c.words.join(' ')}' is not a local address`);
      }
    }
  }
  const walk = (blocks: Block[], vs: Block | null): void => {
    for (const b of blocks) {
      const kw = b.words[0];
      if (kw === 'local_address_group' && !top.includes(b)) errors.push(`line ${b.line}: local_address_group must be at the top level`);
      if (kw === 'syn_proxy' || kw === 'laddr_group_name') {
        const kind = vs?.children.find((c) => c.words[0] === 'lb_kind')?.words[1];
        const proto = vs?.children.find((c) => c.words[0] === 'protocol')?.words[1];
        if (vs === null || vs.children.indexOf(b) < 0) errors.push(`line ${b.line}: ${kw} must sit directly in a virtual_server`);
        else if (kind !== 'FNAT') errors.push(`line ${b.line}: ${kw} needs lb_kind FNAT`);
        if (kw === 'syn_proxy' && (b.words.length !== 1 || proto === 'UDP')) errors.push(`line ${b.line}: syn_proxy takes no argument and needs TCP`);
        if (kw === 'laddr_group_name' && (b.words.length !== 2 || !groups.has(b.words[1] as string))) {
          errors.push(`line ${b.line}: laddr_group_name must name a defined local_address_group`);
        }
      }
      if (kw === 'virtual_server' && b.children.some((c) => c.words[0] === 'lb_kind' && c.words[1] === 'FNAT')) {
        if (!b.children.some((c) => c.words[0] === 'laddr_group_name')) errors.push(`line ${b.line}: FNAT virtual_server needs laddr_group_name`);
      }
      walk(b.children, kw === 'virtual_server' ? b : vs);
    }
  };
  walk(top, null);
  return errors;
}

/**
 * A copy stock keepalived accepts: FULLNAT-only lines blanked (so line numbers in keepalived's
 * messages still match the original), FNAT checked as NAT, and the fork's `nb_get_retry` as `retry`.
 */
export function toStockKeepalived(text: string): string {
  let depth = 0;
  let skipUntil = -1;
  return text
    .split('\n')
    .map((line) => {
      const code = stripComment(line);
      const before = depth;
      depth += (code.match(/\{/g)?.length ?? 0) - (code.match(/\}/g)?.length ?? 0);
      if (skipUntil >= 0) {
        if (depth <= skipUntil) skipUntil = -1;
        return '';
      }
      if (/^\s*local_address_group\b/.test(code)) {
        if (depth > before) skipUntil = before;
        return '';
      }
      if (/^\s*(?:syn_proxy|laddr_group_name)\b/.test(code)) return '';
      return line.replace(/^(\s*)lb_kind(\s+)FNAT\b/, '$1lb_kind$2NAT').replace(/^(\s*)nb_get_retry\b/, '$1retry');
    })
    .join('\n');
}
