/**
 * Shared by the project's commands: option parsing (node:util parseArgs, non-strict, so that
 * every problem is reported at once) and the way a command's `main` ends the process.
 */
import { parseArgs } from "node:util";

/**
 * Problems common to option parsing: positionals, unknown options, options given twice, string
 * options without a value, flags given one.
 */
export function tokenProblems(
  argv: readonly string[],
  options: Readonly<Record<string, { readonly type: "string" | "boolean" }>>,
): { values: Record<string, string | boolean | undefined>; problems: string[] } {
  const problems: string[] = [];
  // Non-strict parsing, so that every problem is reported at once rather than the first.
  const { values, tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind === "positional") {
      problems.push(`unexpected argument "${token.value}"`);
    } else if (token.kind === "option") {
      const known = options[token.name];
      if (known !== undefined && seen.has(token.name)) {
        problems.push(`--${token.name} given more than once`);
      }
      seen.add(token.name);
      if (known === undefined) {
        problems.push(`unknown option "${token.rawName}"`);
      } else if (known.type === "string" && typeof token.value !== "string") {
        problems.push(`${token.rawName} needs a value`);
      } else if (known.type === "string" && !token.inlineValue && token.value?.startsWith("--")) {
        // parseArgs takes the next argument as the value, even another option.
        problems.push(`${token.rawName} needs a value, not the option "${token.value}"`);
        Reflect.deleteProperty(values, token.name);
      } else if (known.type === "boolean" && token.value !== undefined) {
        problems.push(`${token.rawName} takes no value: "${token.value}"`);
      }
    }
  }
  return { values, problems };
}

/** True when the command line asks for help: `--help` or `-h` anywhere on it. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.some((arg) => arg === "--help" || arg === "-h");
}

/**
 * Runs a command's `main` and sets the exit code it returns; an unexpected error is printed
 * (with its stack) and exits 1. The exit code is set rather than `process.exit` called, so
 * pending output is flushed. With `usage`, `--help` (or `-h`) anywhere on the command line
 * prints it and exits 0 before `main` runs, whatever else the line holds.
 */
export function runMain(
  main: () => Promise<number>,
  usage?: string,
  argv: readonly string[] = process.argv.slice(2),
): Promise<void> {
  if (usage !== undefined && wantsHelp(argv)) {
    console.log(usage);
    process.exitCode = 0;
    return Promise.resolve();
  }
  return main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exitCode = 1;
    },
  );
}
