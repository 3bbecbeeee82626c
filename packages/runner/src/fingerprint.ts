// The fingerprint of the code a job imports: a hash of the source of its packages, so that results of
// changed code are never mixed with old ones.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const cache = new Map<string, string>();

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  if (existsSync(join(dir, 'src')) && statSync(join(dir, 'src')).isDirectory()) walk(join(dir, 'src'));
  else if (existsSync(dir) && statSync(dir).isFile()) return [dir];
  if (existsSync(join(dir, 'package.json'))) out.push(join(dir, 'package.json'));
  return out;
}

/** Hash of one package's src/ and package.json (or of one file), cached for the process. */
export function packageFingerprint(dir: string): string {
  const hit = cache.get(dir);
  if (hit) return hit;
  const hash = createHash('sha256');
  for (const file of sourceFiles(dir)) hash.update(relative(dir, file)).update('\0').update(readFileSync(file)).update('\0');
  const value = hash.digest('hex').slice(0, 16);
  cache.set(dir, value);
  return value;
}

/** Fingerprint of several packages (order-independent). */
export function codeFingerprint(dirs: readonly string[]): string {
  const parts = [...new Set(dirs)].map(packageFingerprint).sort();
  return createHash('sha256').update(parts.join(',')).digest('hex').slice(0, 16);
}
