// The CLI's files in the user's config folder (credentials.json, history): the folder is
// `$SEQLINE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/seqline`, else `~/.config/seqline`, made 0700;
// each file is written whole (a temporary file renamed over it) with mode 0600, whatever the
// umask, so another user never reads it, even half-written.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export function configDir(env: Readonly<Record<string, string | undefined>>, home: string): string {
  return env['SEQLINE_CONFIG_DIR'] || (env['XDG_CONFIG_HOME'] ? join(env['XDG_CONFIG_HOME'], 'seqline') : join(home, '.config', 'seqline'));
}

/** The file's text, or undefined when there is no such file. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function writePrivateFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}
