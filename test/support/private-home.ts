/**
 * Homes of their own for the programs tests run (mutt, tmux, Chromium, the CLI, npm): see
 * scripts/private-home.mjs, which the test runner uses for the whole run too.
 */
import { privateHomeEnv } from '../../scripts/private-home.mjs';

export { makePrivateHome, privateHomeEnv } from '../../scripts/private-home.mjs';

/** HOME and the XDG folders of one private home. */
export type PrivateHomeEnv = ReturnType<typeof privateHomeEnv>;
