/** Factories that open a fresh connection per call: what runJob needs to reconnect at will. */
import type { AccountCredentials } from '../contract/account.js';
import type { Result } from '../contract/result.js';
import type { DestinationStore, SourceStore } from '../engine/store.js';
import { openAppendChannel } from './append-channel.js';
import { connectImap, SOCKET_TIMEOUT_MS, type ConnectTimeouts } from './connect-imap.js';
import { createImapDestination } from './imap-destination.js';
import { openWireSource } from './wire-source.js';

/** Reads over wire-source.ts (EXAMINE, UID SEARCH, UID FETCH without imapflow's per-response cost). */
export const openImapSource = (account: AccountCredentials, timeouts?: ConnectTimeouts): Promise<Result<SourceStore>> => openWireSource(account, timeouts);

export const openImapDestination = async (account: AccountCredentials, timeouts?: ConnectTimeouts): Promise<Result<DestinationStore>> => {
  const connection = await connectImap(account, timeouts);
  // APPENDs go over a second, pipelining connection, opened at the first append.
  const keepAliveMs = Math.max(500, Math.floor((timeouts?.socketTimeoutMs ?? SOCKET_TIMEOUT_MS) / 3));
  return connection.ok ? { ok: true, value: createImapDestination(connection.value, { openAppendChannel: () => openAppendChannel(account, timeouts), keepAliveMs }) } : connection;
};
