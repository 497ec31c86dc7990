/**
 * The CLI's garbage-collection policy, set before anything else is loaded (main.ts imports this
 * first). A copy streams hundreds of megabytes through short-lived buffers while what it must
 * keep (the journal, a chunk of metadata per connection, what is on its way) stays small.
 *
 * - Old generation: V8's default lets the heap grow to several times what is live before it
 *   collects, which made a 100,000-message folder peak at 265 MB RSS; growing by at most half of
 *   what survived a collection kept it near 190 MB, for about 10% more CPU in the mailferry
 *   process (npm run bench --big-folder).
 * - Young generation: V8 doubles it up to 16 MB per semi-space under a copy's load. Its maximum
 *   can be set only when the process starts, so once it has reached YOUNG_GENERATION_CAP_BYTES
 *   it is kept from growing further (growth factor 1). With four connections streaming one
 *   folder of 20,000 messages that kept peak RSS at 178 MB instead of 209 MB (npm run bench
 *   --one-folder --messages 20000 --connections 4).
 */
import v8 from 'node:v8';

/** Both semi-spaces together (V8 reports them as one `new_space`). */
const YOUNG_GENERATION_CAP_BYTES = 8 * 1024 * 1024;
const CHECK_INTERVAL_MS = 250;

v8.setFlagsFromString('--heap-growing-percent=50');

const youngGenerationBytes = (): number => v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
const watch = setInterval(() => {
  if (youngGenerationBytes() < YOUNG_GENERATION_CAP_BYTES) return;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  clearInterval(watch);
}, CHECK_INTERVAL_MS);
watch.unref();
