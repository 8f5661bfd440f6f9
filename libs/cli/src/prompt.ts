// Questions on the terminal (for `seqline login`), on stderr so stdout stays clean. A hidden
// answer is read in raw mode, with no echo; Ctrl-C there is passed on as SIGINT.
import { createInterface } from 'node:readline/promises';

export async function promptTerminal(question: string, hidden: boolean): Promise<string> {
  if (!hidden) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT')); // readline took Ctrl-C from the terminal
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  }
  process.stderr.write(question);
  return readHidden();
}

function readHidden(): Promise<string> {
  const { stdin } = process;
  return new Promise((resolve) => {
    let answer = '';
    const done = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done();
          return resolve(answer);
        }
        if (ch === '\u0003') {
          done();
          process.kill(process.pid, 'SIGINT');
          return;
        }
        answer = ch === '\u007f' || ch === '\b' ? [...answer].slice(0, -1).join('') : answer + ch;
      }
    };
    stdin.setEncoding('utf8');
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
