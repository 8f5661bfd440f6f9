// The REPL's history: the lines typed, oldest first, one per line, in `history` in the config
// folder (0600 in a 0700 folder: private-file.ts), at most HISTORY_SIZE of them. A line that
// mentions a password (CREATE USER … PASSWORD '…') stays in the session's memory but is never
// written to the file.
import { join } from 'node:path';
import { configDir, readIfExists, writePrivateFile } from './private-file.js';

export const HISTORY_SIZE = 1000;

export interface HistoryStore {
  readonly path: string;
  /** Newest first, as node:readline takes it. */
  load(): Promise<string[]>;
  /** Newest first; the last call wins when saves overlap. */
  save(lines: readonly string[]): Promise<void>;
}

export function historyPath(env: Readonly<Record<string, string | undefined>>, home: string): string {
  return join(configDir(env, home), 'history');
}

/** Lines worth keeping on disk, oldest first. */
export function historyText(newestFirst: readonly string[]): string {
  const kept = newestFirst.filter((line) => line.trim() !== '' && !/password/i.test(line)).slice(0, HISTORY_SIZE);
  return kept.reverse().map((line) => `${line}\n`).join('');
}

export function fileHistory(path: string): HistoryStore {
  let saving = Promise.resolve();
  return {
    path,
    async load() {
      const text = (await readIfExists(path)) ?? '';
      return text
        .split('\n')
        .filter((line) => line !== '')
        .slice(-HISTORY_SIZE)
        .reverse();
    },
    save(lines) {
      const text = historyText(lines);
      saving = saving.catch(() => undefined).then(() => writePrivateFile(path, text));
      return saving;
    },
  };
}
