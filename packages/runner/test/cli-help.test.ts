// --help is written from the same options table the parser reads (cli-options.ts): it lists every flag the
// parser accepts, its examples parse, and --version says what runs.
import { describe, expect, it } from 'vitest';
import { parseCli } from '../src/cli';
import { COMMANDS, flagsOf, helpText, OPTIONS, type Command } from '../src/cli-options';
import { bench } from './helpers';

describe('pnpm bench --help', () => {
  const help = bench(['--help']);

  it('lists every flag the parser accepts, each under the commands that take it, and every command', () => {
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(helpText() + '\n');
    for (const flag of Object.keys(OPTIONS))
      expect(help.stdout, `--${flag}`).toMatch(new RegExp(`^  --${flag}\\b`, 'm'));
    for (const command of Object.keys(COMMANDS))
      expect(help.stdout).toMatch(
        new RegExp(`^  ${command === 'run' ? 'pnpm bench \\[' : `pnpm bench ${command}`}`, 'm'),
      );
    // the flags of issue 26's report that it used to lack
    for (const flag of ['--test-episodes', '--ood-episodes', '--version', '--dry-run', '--compare', '--verbose'])
      expect(help.stdout).toContain(flag);
  });

  it('and the parser takes exactly those: each flag with the commands the help names, none other', () => {
    for (const command of Object.keys(COMMANDS) as Command[]) {
      const positionals =
        command === 'run'
          ? []
          : command === 'list'
            ? ['list']
            : command === 'check'
              ? ['check', 'linear']
              : [command, 'dir'];
      for (const flag of Object.keys(OPTIONS)) {
        const spec = OPTIONS[flag as keyof typeof OPTIONS] as { type: string };
        const value =
          spec.type === 'string'
            ? [
                flag === 'seeds'
                  ? '2'
                  : flag === 'shard'
                    ? '0/2'
                    : flag === 'format'
                      ? 'csv'
                      : flag === 'out'
                        ? 'x'
                        : flag === 'protocol'
                          ? 'offline'
                          : '1',
              ]
            : [];
        const args = [
          ...positionals,
          `--${flag}`,
          ...value,
          ...(command === 'merge' && flag !== 'out' ? ['--out', 'x'] : []),
          // --tell-world is refused without a generalist protocol, whose episodes it names
          ...(command === 'run' && flag === 'tell-world' ? ['--protocol', 'generalist'] : []),
        ];
        const takes = (flagsOf(command) as string[]).includes(flag);
        if (takes) expect(() => parseCli(args), args.join(' ')).not.toThrow();
        else expect(() => parseCli(args), args.join(' ')).toThrow(/not --|is not a flag of a run/);
      }
    }
    expect(() => parseCli(['--frobnicate'])).toThrow(/Unknown option '--frobnicate'/);
  });

  it('has examples that parse', () => {
    const examples = [...help.stdout.matchAll(/^  (pnpm bench .*)$/gm)]
      .map((m) => m[1])
      .filter((line) => !/\[--|DIR\.\.\.|MODEL \|/.test(line));
    expect(examples.length).toBeGreaterThanOrEqual(6);
    for (const line of examples) {
      const words = [...line.replace(/ > \S+$/, '').matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]).slice(2);
      expect(() => parseCli(words), line).not.toThrow();
    }
  });

  it('--version names the version, the commit and Node', () => {
    const r = bench(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^worldbench \d+\.\d+\.\d+ \(commit [0-9a-f]{40}(-dirty)?, node v\d+\.\d+\.\d+\)\n$/);
  });
});
