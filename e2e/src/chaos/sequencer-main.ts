// The sequencer process of the fault campaign: services/sequencer's own service, but with a clock
// the nemesis can skew while it runs. The offset (ms, negative = the clock runs behind) is read
// from the file named by CHAOS_CLOCK_FILE at start and again on each SIGUSR2, so a fault can set
// this sequencer's clock back (or forward) and later restore it, as NTP steps or a bad host clock
// would. Everything else (config, lifecycle, health) is services/sequencer/src/main.ts's.
import { readFileSync } from 'node:fs';
import { serviceMain } from '@seqline/runtime';
import { sequencerConfigSchema, SequencerService } from '@seqline/sequencer';

const clockFile = process.env['CHAOS_CLOCK_FILE'];
let offsetMs = 0;
const readOffset = (): void => {
  if (clockFile === undefined) return;
  try {
    offsetMs = Number(readFileSync(clockFile, 'utf8').trim()) || 0;
  } catch {
    offsetMs = 0;
  }
};
readOffset();
process.on('SIGUSR2', readOffset);

await serviceMain({
  name: 'sequencer',
  summary: 'the sequencer with a clock the fault campaign can skew (e2e/src/chaos).',
  schema: sequencerConfigSchema,
  create: (config, logger) => new SequencerService(config, { logger, clock: { now: () => Date.now() + offsetMs } }),
});
