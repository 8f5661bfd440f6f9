// On-demand CPU profiling for performance work: with SEQLINE_CPU_PROFILE_DIR set, a service
// records a V8 CPU profile from start to stop and writes <dir>/<service>-<pid>.cpuprofile
// (open it in Chrome DevTools or speedscope). Off by default: it costs CPU.
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

export async function startCpuProfile(dir: string, name: string): Promise<() => Promise<string>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    const file = join(dir, `${name}-${process.pid}.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
    return file;
  };
}
