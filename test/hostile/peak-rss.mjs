/**
 * Loaded into a CLI child with `--import` by the hostile-server tests: at exit it writes the
 * process's peak resident set size (KB, getrusage's ru_maxrss) to MAILFERRY_TEST_PEAK_RSS_FILE.
 */
import { writeFileSync } from 'node:fs';

const target = process.env.MAILFERRY_TEST_PEAK_RSS_FILE;
if (target) process.on('exit', () => writeFileSync(target, String(process.resourceUsage().maxRSS)));
