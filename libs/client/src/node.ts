// The Node entry: the client with the `ws` package as its WebSocket (Node 20 has none), and a
// store in a JSON file.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import WebSocket from 'ws';
import { SeqlineClient, type ClientOptions, type WebSocketLike } from './client.js';
import type { Store } from './store.js';

export * from './index.js';

/** `createClient` for Node: `webSocket` defaults to the `ws` package. */
export function createClient(options: ClientOptions): SeqlineClient {
  return new SeqlineClient({ webSocket: (url) => new WebSocket(url) as unknown as WebSocketLike, ...options });
}

/**
 * A store in one JSON file, written whole (to a temporary file, then renamed) after each change,
 * one write at a time.
 */
export function fileStore(path: string): Store {
  let data: Record<string, string> | undefined;
  let writing: Promise<void> = Promise.resolve();
  const load = async (): Promise<Record<string, string>> => {
    if (data === undefined) {
      try {
        data = JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        data = {};
      }
    }
    return data;
  };
  const save = (): Promise<void> => {
    writing = writing.then(async () => {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(`${path}.tmp`, JSON.stringify(data));
      await rename(`${path}.tmp`, path);
    });
    return writing;
  };
  return {
    get: async (key) => (await load())[key],
    set: async (key, value) => {
      (await load())[key] = value;
      await save();
    },
    delete: async (key) => {
      delete (await load())[key];
      await save();
    },
  };
}
