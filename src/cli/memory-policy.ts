/**
 * The CLI's garbage-collection policy, set before anything else is loaded (main.ts imports this
 * first). A copy streams hundreds of megabytes through short-lived buffers while what it must
 * keep (the journal, one window of metadata, two batches) stays under ~60 MB. V8's default lets
 * the heap grow to several times what is live before it collects, which made a 100,000-message
 * folder peak at 265 MB RSS; growing by at most half of what survived a collection keeps it
 * near 190 MB, for about 10% more CPU in the mailferry process (npm run bench --big-folder).
 */
import v8 from 'node:v8';

v8.setFlagsFromString('--heap-growing-percent=50');
