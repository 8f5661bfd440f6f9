// `npm run bench -- <name> [--smoke] [--cluster] [--window|--saturation|--memory|--resume]`: runs one benchmark (`live --window`: its window case alone;
// `live --saturation`: its saturation ramp and raw WebSocket baseline alone; `live --memory`: its memory case alone; `live --resume`: its resume case alone). Each prints its figures next
// to the baseline it is compared with, measured in the same run; bench/README.md records them.
// `--cluster` (or SEQLINE_BENCH_NATS_CLUSTER=1) runs the local stack on a 3-node NATS cluster.
import { BENCH_CLUSTER_ENV } from './lib/local-stack.ts';
import { runLiveBench, runLiveMemoryBench, runLiveResumeBench, runLiveSaturationBench, runLiveWindowBench } from './live/bench.ts';
import { runPeersBench } from './peers/bench.ts';
import { runResourcesBench } from './resources/bench.ts';
import { runSdkBench } from './sdk/bench.ts';
import { runSequencerBench } from './sequencer/bench.ts';
import { runUsersBench } from './users/bench.ts';
import { runWriteBench } from './write/bench.ts';

const BENCHES: Record<string, (opts: { smoke: boolean; windowOnly: boolean; saturationOnly: boolean; memoryOnly: boolean; resumeOnly: boolean }) => Promise<unknown>> = {
  live: (opts) => (opts.windowOnly ? runLiveWindowBench(opts) : opts.saturationOnly ? runLiveSaturationBench(opts) : opts.memoryOnly ? runLiveMemoryBench(opts) : opts.resumeOnly ? runLiveResumeBench(opts) : runLiveBench(opts)),
  peers: (opts) => runPeersBench(opts),
  resources: runResourcesBench,
  sdk: runSdkBench,
  sequencer: runSequencerBench,
  users: runUsersBench,
  write: runWriteBench,
};

const [name, ...rest] = process.argv.slice(2);
const bench = name === undefined ? undefined : BENCHES[name];
if (bench === undefined) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [--smoke] [--cluster] [--window|--saturation|--memory|--resume]`);
  process.exit(2);
}
if (rest.includes('--cluster')) process.env[BENCH_CLUSTER_ENV] = '1';
if (process.env[BENCH_CLUSTER_ENV] === '1') console.log('NATS: a 3-node JetStream cluster, streams and buckets on 3 replicas');
await bench({ smoke: rest.includes('--smoke'), windowOnly: rest.includes('--window'), saturationOnly: rest.includes('--saturation'), memoryOnly: rest.includes('--memory'), resumeOnly: rest.includes('--resume') });
