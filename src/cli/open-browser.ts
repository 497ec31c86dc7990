/** Opens a web address in the person's default browser, as the desktop does for a link. */
import { spawn } from 'node:child_process';

const COMMAND: Partial<Record<NodeJS.Platform, [string, string[]]>> = {
  darwin: ['open', []],
  // Not `cmd /c start`: cmd would read the `&` of the query as a command separator.
  win32: ['rundll32', ['url.dll,FileProtocolHandler']],
};

/** Resolves once the opener started; rejects when there is none (the caller prints the address anyway). */
export const openInBrowser = (url: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const [command, args] = COMMAND[process.platform] ?? ['xdg-open', []];
    // The URL is one argument, never parsed by a shell.
    const child = spawn(command, [...args, url], { stdio: 'ignore', detached: true });
    child.once('error', reject);
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
