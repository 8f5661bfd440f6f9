#!/usr/bin/env node
// The `seqline` command: runs src/main.ts through tsx (as the services run theirs), from any
// working directory, with this package's own tsconfig rather than whatever the cwd has.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('../src/main.ts');
