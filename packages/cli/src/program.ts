/**
 * The `canopy` program: global options, the command word, and lazy loading of just the module
 * that implements it (see registry.ts), so start-up stays fast for commands scripts call often.
 */
import { Command } from 'commander';
import { createContext } from './context.ts';
import { formatError, type CommandShape } from './output.ts';
import { COMMANDS } from './registry.ts';

/** The command word in `argv` (after `help`, the word asked about), skipping global options and their values. */
export function commandWord(argv: string[], takesValue: Set<string>): string | undefined {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const a = argv[i] ?? '';
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (takesValue.has(a)) i++;
      continue;
    }
    words.push(a);
    if (a !== 'help') break;
  }
  return words[0] === 'help' ? words[1] : words[0];
}

/** Build the program for `argv` and run it; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('canopy')
    .description('Canopy: operations around one service tree')
    .option('--url <url>', 'server URL (default: $CANOPY_URL, then the saved login, then http://127.0.0.1:7070)')
    .option('--token <token>', 'API token (default: $CANOPY_TOKEN, then the saved login)')
    .showSuggestionAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });
  const ctx = createContext(program);
  // The command that runs, so an API error can name its flags (`--under`) instead of query parameters.
  let shape: CommandShape | undefined;
  program.hook('preAction', (_root, cmd) => {
    shape = { flags: cmd.options.flatMap((o) => o.long ?? []), args: cmd.registeredArguments.map((a) => a.name()) };
  });

  const takesValue = new Set(program.options.filter((o) => o.required).flatMap((o) => [o.long, o.short].filter((f): f is string => !!f)));
  const word = commandWord(argv, takesValue);
  const entry = COMMANDS.find((c) => c.name === word);
  if (entry) {
    (await entry.load())(program, ctx);
  } else {
    // Help or an unknown word: list every command without loading any.
    for (const c of COMMANDS) program.command(c.name).description(c.summary);
  }

  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    process.stderr.write(formatError(err, shape));
    return 1;
  }
}
