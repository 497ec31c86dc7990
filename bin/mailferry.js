#!/usr/bin/env node
// The `mailferry` command (`npx mailferry` in a checkout): runs the compiled CLI in dist/, which
// npm ci builds (package.json's `prepare` runs `npm run build`). No syntax newer than Node 12
// before the version check has run (see scripts/check-node-version.mjs).
import { ensureSupportedNode } from '../scripts/check-node-version.mjs';

// Exit status 2, as for any other reason the CLI cannot start.
ensureSupportedNode(2);

import('../dist/src/cli/main.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('mailferry: not built yet (dist/ is missing). Run "npm ci" or "npm run build" first.\n');
    process.exit(2);
  }
  throw error;
});
