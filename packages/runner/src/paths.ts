// Paths the user types (--out, report folders, --model ./file.ts) are read from the folder pnpm was started
// in, as every CLI does; and an --out folder is checked before anything runs or is written.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '@worldbench/core';

/** Where the user stands: pnpm runs scripts from the workspace root and says where it was started in INIT_CWD. */
export function userCwd(): string {
  return process.env.INIT_CWD ?? process.cwd();
}

/** A path as the user typed it, made absolute from where they stand. */
export function fromUser(path: string): string {
  return resolve(userCwd(), path);
}

/**
 * Refuses an output folder that cannot be one (an existing file, a path under a file) or cannot be written
 * (the nearest existing folder is read-only), with a message instead of EEXIST / ENOTDIR / EACCES later.
 * Reads only. `flag` names the option in the message.
 */
export function checkOutFolder(dir: string, flag = '--out'): void {
  let existing = dir;
  while (!existsSync(existing)) existing = dirname(existing);
  if (!statSync(existing).isDirectory())
    throw new UserError(
      existing === dir
        ? `${flag} ${dir} is a file, not a folder; give a folder (it is created if missing)`
        : `${flag} ${dir} lies under ${existing}, which is a file, not a folder; give a folder path`,
    );
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    throw new UserError(`${flag} ${dir}: cannot write in ${existing} (permission denied); give a folder you can write`);
  }
}
