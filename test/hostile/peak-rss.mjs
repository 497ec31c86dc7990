/**
 * Loaded into a CLI child with `--import` by the hostile-server tests: at exit it writes the
 * process's peak resident set size in KB to MAILFERRY_TEST_PEAK_RSS_FILE. It reads VmHWM from
 * /proc, the high-water mark of this program's memory: getrusage's ru_maxrss would also count
 * the test process the child was forked from (Linux keeps the larger mark across exec).
 */
import { readFileSync, writeFileSync } from 'node:fs';

const target = process.env.MAILFERRY_TEST_PEAK_RSS_FILE;
if (target) {
  process.on('exit', () => {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    writeFileSync(target, kb ?? '0');
  });
}
