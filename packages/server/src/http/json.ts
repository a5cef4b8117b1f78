/**
 * What a request may carry, checked once at the boundary for every route: JSON no deeper than
 * MAX_JSON_DEPTH (deeper input overflows stacks in validators, JSON.stringify and PostgreSQL's jsonb
 * parser) and no text PostgreSQL cannot store (U+0000 in text or jsonb, unpaired UTF-16 surrogates
 * in jsonb). Without this such input reached the database and answered 500.
 */
import { ValidationError } from '@canopy/core';

export const MAX_JSON_DEPTH = 64;

const BACKSLASH = 92;
const QUOTE = 34;
const U = 117;

function hexAt(text: string, i: number): number {
  const h = text.slice(i, i + 4);
  return /^[0-9a-fA-F]{4}$/.test(h) ? Number.parseInt(h, 16) : -1;
}

/** Why raw JSON text is refused, or undefined when it may be parsed. One linear scan. */
export function jsonTextProblem(text: string): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === QUOTE) inString = false;
      else if (c === BACKSLASH) {
        if (text.charCodeAt(i + 1) !== U) {
          i++;
          continue;
        }
        const cp = hexAt(text, i + 2);
        if (cp === 0) return 'strings may not contain the NUL character (\\u0000)';
        if (cp >= 0xdc00 && cp <= 0xdfff) return 'strings may not contain an unpaired UTF-16 surrogate';
        if (cp >= 0xd800 && cp <= 0xdbff) {
          const low = text.charCodeAt(i + 6) === BACKSLASH && text.charCodeAt(i + 7) === U ? hexAt(text, i + 8) : -1;
          if (low < 0xdc00 || low > 0xdfff) return 'strings may not contain an unpaired UTF-16 surrogate';
          i += 11;
          continue;
        }
        i += 5;
      }
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > MAX_JSON_DEPTH) return `JSON may nest at most ${MAX_JSON_DEPTH} levels`;
    } else if (c === 125 || c === 93) depth--;
  }
  return undefined;
}

/** Throw a ValidationError when `text` is refused by `jsonTextProblem`. */
function assertAcceptableJsonText(text: string): void {
  const why = jsonTextProblem(text);
  if (why) throw new ValidationError(`malformed body: ${why}`, [{ path: ['body'], message: why }]);
}

/**
 * Parse JSON text from a request body; malformed text is a 400, not a 500. A `__proto__` key, or a
 * `constructor` holding `prototype`, only ever arrives to poison prototypes: refused, and named so.
 */
export function parseJsonBody(text: string): unknown {
  assertAcceptableJsonText(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const why = (err as Error).message;
    throw new ValidationError(`malformed JSON: ${why}`, [{ path: ['body'], message: why }]);
  }
  // Plain JSON.parse makes such keys own properties, harmless until merged; walk only when the text
  // could hold one (escapes included), so large ordinary bodies pay nothing.
  if (/__proto__|constructor|\\u/.test(text)) {
    const where = poisonedKey(value, ['body']);
    if (where) {
      const key = where.at(-1) === 'prototype' ? 'constructor.prototype' : '__proto__';
      throw new ValidationError(`${key} is not allowed as a key (at ${where.join('.')})`, [{ path: where, message: `${key} is not allowed as a key` }]);
    }
  }
  return value;
}

function poisonedKey(value: unknown, path: (string | number)[]): (string | number)[] | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = poisonedKey(value[i], [...path, i]);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    if (Object.hasOwn(value, '__proto__')) return [...path, '__proto__'];
    const ctor = (value as Record<string, unknown>)['constructor'];
    if (Object.hasOwn(value, 'constructor') && ctor !== null && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype')) return [...path, 'constructor', 'prototype'];
    for (const [k, v] of Object.entries(value)) {
      const found = poisonedKey(v, [...path, k]);
      if (found) return found;
    }
  }
  return undefined;
}

/** True when a URL carries an encoded NUL, which no route accepts and PostgreSQL cannot store. */
export function urlHasNul(url: string): boolean {
  return /%00/.test(url);
}
