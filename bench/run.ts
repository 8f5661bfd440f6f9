// `npm run bench -- <name> [--smoke]`: runs one benchmark. Each prints its figures next to the
// baseline it is compared with, measured in the same run; bench/README.md records them.
import { runLiveBench } from './live/bench.ts';
import { runResourcesBench } from './resources/bench.ts';
import { runSdkBench } from './sdk/bench.ts';
import { runSequencerBench } from './sequencer/bench.ts';
import { runWriteBench } from './write/bench.ts';

const BENCHES: Record<string, (opts: { smoke: boolean }) => Promise<unknown>> = {
  live: runLiveBench,
  resources: runResourcesBench,
  sdk: runSdkBench,
  sequencer: runSequencerBench,
  write: runWriteBench,
};

const [name, ...rest] = process.argv.slice(2);
const bench = name === undefined ? undefined : BENCHES[name];
if (bench === undefined) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [--smoke]`);
  process.exit(2);
}
await bench({ smoke: rest.includes('--smoke') });
