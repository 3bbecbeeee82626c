/**
 * Fails when a line of source (TypeScript or JavaScript tracked by git) is longer than 120 characters.
 * Biome's formatter keeps code within the width but never breaks a string, a regex or a comment: this
 * check covers those. Run by `pnpm lint`; it prints each offending line as file:line (characters).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const WIDTH = 120;
const files = execFileSync('git', ['ls-files', '-z', '*.ts', '*.mts', '*.cts', '*.js', '*.mjs', '*.cjs'], {
  encoding: 'utf8',
})
  .split('\0')
  .filter((f) => f !== '');
const long: string[] = [];
for (const file of files) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue; // deleted in the work tree, not yet in the index
  }
  text.split('\n').forEach((line, i) => {
    const width = [...line].length; // characters, not UTF-16 units or bytes
    if (width > WIDTH) long.push(`${file}:${i + 1} (${width} characters)`);
  });
}
if (long.length > 0) {
  console.error(
    `${long.length} line(s) over ${WIDTH} characters (split the string, regex or comment; Biome wraps code):\n` +
      long.join('\n'),
  );
  process.exit(1);
}
console.log(`line width: ${files.length} files, no line over ${WIDTH} characters`);
