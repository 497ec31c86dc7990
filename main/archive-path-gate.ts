/**
 * Archive folders the renderer may name over IPC: only one the folder dialog returned in this
 * session (main remembers each answer of `archive:chooseFolder`), or one main itself saved
 * (`saved`). The renderer holds a path, but cannot make one up: a page that was tampered with
 * cannot point an archive, read (a restore) or written, at ~/.ssh or any other folder.
 *
 * No `electron` import here, so the tests run under plain Node.
 */
import path from 'node:path';
import type { ArchiveLocation } from '../src/contract/account.js';
import { migrationError } from '../src/contract/result.js';
import type { InvokeHandlers } from './ipc-handlers.js';

const refusal = {
  ok: false as const,
  error: migrationError('bad-input', 'Choose the archive folder again with “Choose folder…”: Mailferry uses only a folder picked in its own dialog.'),
};

/**
 * The handlers with archive paths checked: `plan:load` and `jobs:start` run only with archive
 * folders chosen in the dialog (or saved by main); anything else is refused before the handler.
 */
export function gateArchivePaths(handlers: InvokeHandlers, saved: () => Iterable<string> = () => []): InvokeHandlers {
  const chosen = new Set<string>();
  const isAllowed = (location: ArchiveLocation | undefined): boolean => {
    if (!location) return true;
    const wanted = path.resolve(location.path);
    return chosen.has(wanted) || [...saved()].some((p) => path.resolve(p) === wanted);
  };
  return {
    ...handlers,
    async 'archive:chooseFolder'(request) {
      const answer = await handlers['archive:chooseFolder'](request);
      if (answer.ok) chosen.add(path.resolve(answer.value.path));
      return answer;
    },
    async 'plan:load'(request) {
      return isAllowed(request.archive) && isAllowed(request.source) ? handlers['plan:load'](request) : refusal;
    },
    async 'jobs:start'(request) {
      return isAllowed(request.archive) && isAllowed(request.source) ? handlers['jobs:start'](request) : refusal;
    },
  };
}
