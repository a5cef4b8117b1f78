/** Option parsers shared by command groups (commander calls them with each raw value). */
import { InvalidArgumentError } from 'commander';
import { UsageError } from '../output.ts';

/** Repeatable option: `--ip a --ip b,c` → `['a', 'b', 'c']`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

/** Parser for an integer option or argument within [min, max]; commander names the option in the error. */
export function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^-?\d+$/.test(value) ? Number(value) : NaN;
    if (!(n >= min && n <= max)) throw new InvalidArgumentError(`'${value}' is not an integer from ${min} to ${max}.`);
    return n;
  };
}

/** `k=v` pairs from a repeated `option` (the value may hold more `=`). */
export function keyValues(pairs: string[], option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const at = p.indexOf('=');
    if (at <= 0) throw new UsageError(`${option} '${p}' must look like key=value`);
    out[p.slice(0, at)] = p.slice(at + 1);
  }
  return out;
}
