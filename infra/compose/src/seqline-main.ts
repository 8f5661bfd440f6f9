// The image's entry point (Dockerfile): runs the program SEQLINE_SERVICE names, each a bundle
// beside this one. `node --env-file=… /app/seqline.js` loads a service's secrets first.
import { isProgram, PROGRAMS } from './programs.js';

const name = process.env['SEQLINE_SERVICE'] ?? 'gateway';
if (!isProgram(name)) {
  console.error(`SEQLINE_SERVICE must be one of ${PROGRAMS.join(', ')}, got ${JSON.stringify(name)}`);
  process.exit(78);
}
await import(new URL(`./${name}.js`, import.meta.url).href);
