import type { InvokeChannel, InvokeMap } from '../contract/ipc.js';

/** One handler per channel of `C`: each concern of the app service answers its own channels. */
export type ChannelHandlers<C extends InvokeChannel> = {
  [K in C]: (request: InvokeMap[K][0]) => Promise<InvokeMap[K][1]>;
};
