import { parseArgs, type ParseArgsConfig } from 'node:util';
import { applyOverrides, SettingsError, type Settings } from '../../shared/settings';

/** Ends a command-line tool: the message goes to stdout (code 0) or stderr, then the process exits with `code`. */
export class CommandLineExit extends Error {
  override name = 'CommandLineExit';

  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP = { help: { type: 'boolean', default: false } } as const;
type Values<O extends Options> = ReturnType<
  typeof parseArgs<{ options: O & typeof HELP; strict: true; allowPositionals: false }>
>['values'];

/** Parses the command line strictly; a bad option ends with the usage (exit 2), --help with the usage (exit 0). */
export function parseCommandLine<const O extends Options>(
  options: O,
  usage: string,
  args = process.argv.slice(2),
): Values<O> {
  let values: Values<O>;
  try {
    values = parseArgs({ args, options: { ...options, ...HELP }, strict: true, allowPositionals: false })
      .values as Values<O>;
  } catch (error) {
    throw new CommandLineExit(2, `${(error as Error).message}\n${usage}`);
  }
  if ((values as { help?: boolean }).help) throw new CommandLineExit(0, usage);
  return values;
}

/** Settings from `--set path.to.option=value` assignments; an invalid one ends the tool naming the field (exit 2). */
export function settingsFromAssignments(assignments: readonly string[]): Settings {
  try {
    return applyOverrides({}, assignments);
  } catch (error) {
    if (error instanceof SettingsError) throw new CommandLineExit(2, error.message);
    throw error;
  }
}

/** Runs a tool's main and exits explicitly (native handles such as onnxruntime's keep Node alive). */
export function runCommand(main: () => Promise<number | void>): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (error: unknown) => {
      if (error instanceof CommandLineExit) {
        (error.code === 0 ? console.log : console.error)(error.message);
        process.exit(error.code);
      }
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
