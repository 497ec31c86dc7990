/** What a command of the command line talks through: its output, its environment, the terminal, the keychain. */
import type { RefreshTokenStore } from '../auth/refresh-token-store.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** Asks for a secret on the terminal; absent when there is none. */
  readSecret?(prompt: string): Promise<string>;
  /** Aborted with reason 'pause' on Ctrl-C. */
  signal?: AbortSignal;
  version?: string;
  /** Where `--remember` keeps refresh tokens (the OS keychain). */
  keychain?: RefreshTokenStore;
  /** Opens the system browser for a sign-in; absent where none can be opened. */
  openBrowser?(url: string): Promise<void>;
}
