/** Option parsers shared by command groups (commander calls them with each raw value). */
import { InvalidArgumentError } from 'commander';

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
