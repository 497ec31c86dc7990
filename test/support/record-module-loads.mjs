// Loaded with `node --import`: appends the URL of every module Node loads from then on to the
// file named by MAILFERRY_RECORD_LOADS, one per line (a module hook, in Node's hooks thread).
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.MAILFERRY_RECORD_LOADS, url + '\\n');
  return next(url, context);
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
