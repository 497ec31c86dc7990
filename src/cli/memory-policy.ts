/**
 * The CLI's garbage-collection policy, set before anything else is loaded (main.ts imports this
 * first). A copy streams hundreds of megabytes through short-lived buffers while what it must
 * keep (the journal, a chunk of metadata per connection, what is on its way) stays small. V8's
 * default lets the heap grow to several times what is live before it collects, which made a
 * 100,000-message folder peak at 265 MB RSS; growing by at most half of what survived a
 * collection kept it near 190 MB, for about 10% more CPU in the mailferry process. The young
 * generation is capped at 4 MB per semi-space (V8's default is 16 MB): the metadata of a big
 * folder dies young, and with four connections streaming one folder the smaller nursery kept
 * peak RSS under 200 MB (npm run bench --one-folder --messages 20000 --connections 4).
 */
import v8 from 'node:v8';

v8.setFlagsFromString('--heap-growing-percent=50');
v8.setFlagsFromString('--max-semi-space-size=4');
