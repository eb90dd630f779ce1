/** A command line that does not fit the usage: the CLI prints the usage and exits 2. */
export class UsageError extends Error {}

/**
 * Parses `--name value` and `--name=value` options. Every option takes a value; positional
 * arguments, unknown options, repeats and missing values are usage errors.
 */
export function parseOptions(args: string[], known: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new UsageError(`unexpected argument: ${arg}`);
    const [, name, inline] = m;
    if (!known.includes(name)) throw new UsageError(`unknown option: --${name}`);
    if (name in out) throw new UsageError(`--${name} given twice`);
    let value = inline;
    if (value === undefined) {
      const next = args[i + 1];
      if (next === undefined || next.startsWith("--")) throw new UsageError(`--${name} needs a value`);
      value = next;
      i++;
    }
    out[name] = value;
  }
  return out;
}
