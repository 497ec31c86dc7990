/**
 * Reads V8 CPU profiles (`node --cpu-prof` writes `*.cpuprofile`) and says where the time went:
 * self time by file (our modules, imapflow, Node's internals, garbage collection, idle) and the
 * heaviest functions. Run on its own: `npx tsx scripts/bench/cpu-profile-summary.ts DIR`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A short place for a URL: `src/engine/copy-folder.js`, `imapflow/lib/...`, `node:net`, or the special names. */
const placeOf = (url: string, name: string): string => {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return url;
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const src = url.search(/\/(src|main)\//);
  return src >= 0 ? url.slice(src + 1) : url;
};

/** Self milliseconds per (place, function) and per place. */
const selfTimes = (profile: CpuProfile): { byFunction: Map<string, number>; byPlace: Map<string, number>; totalMs: number } => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    if (!node) return;
    const place = placeOf(node.callFrame.url, node.callFrame.functionName);
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${place}${node.callFrame.url ? `:${node.callFrame.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    // Node's internals grouped by module, packages by their name.
    const group = place.startsWith('node:') ? place : place.includes('/') && !place.startsWith('src/') && !place.startsWith('main/') ? place.split('/')[0] as string : place;
    byPlace.set(group, (byPlace.get(group) ?? 0) + ms);
    totalMs += ms;
  });
  return { byFunction, byPlace, totalMs };
};

const top = (map: Map<string, number>, n: number, totalMs: number): string[] =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, ms]) => `  ${ms.toFixed(0).padStart(7)} ms ${((ms / totalMs) * 100).toFixed(1).padStart(5)}%  ${key}`);

/** A text summary of every profile in `dir`, merged. */
export const summarizeProfiles = (dir: string, functions = 30): string => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let totalMs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const times = selfTimes(profile);
    for (const [k, v] of times.byFunction) byFunction.set(k, (byFunction.get(k) ?? 0) + v);
    for (const [k, v] of times.byPlace) byPlace.set(k, (byPlace.get(k) ?? 0) + v);
    totalMs += times.totalMs;
  }
  const busyMs = totalMs - (byPlace.get('(idle)') ?? 0);
  return [
    `CPU profile: ${files.length} file(s), ${(totalMs / 1000).toFixed(2)} s sampled, ${(busyMs / 1000).toFixed(2)} s not idle`,
    'Self time by place:',
    ...top(byPlace, 25, totalMs),
    `Heaviest ${functions} functions (self time):`,
    ...top(byFunction, functions, totalMs),
  ].join('\n');
};

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: npx tsx scripts/bench/cpu-profile-summary.ts DIR_WITH_CPUPROFILES [FUNCTIONS]\n');
    process.exit(2);
  }
  process.stdout.write(summarizeProfiles(resolve(dir), Number(process.argv[3] ?? 30)) + '\n');
}
