/** Reading secrets and answers: from stdin for scripts, from the terminal (echo off) for people. */
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { UsageError } from './output.ts';

/** All of stdin, without the one trailing newline `echo` adds. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/**
 * Ask on the terminal; prompts go to stderr so stdout stays clean for `--json`. With `hidden` the
 * answer is not echoed. Without a terminal there is nobody to ask: say which flag to use instead.
 */
export async function ask(question: string, opts: { hidden?: boolean; instead: string }): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError(`no terminal to ask on; ${opts.instead}`);
  let muted = false;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output: sink, terminal: true });
  try {
    const answer = rl.question(question);
    muted = opts.hidden === true;
    return await answer;
  } finally {
    rl.close();
    if (muted) process.stderr.write('\n');
  }
}
