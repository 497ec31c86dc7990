#!/usr/bin/env node
// The published command: runs the compiled CLI (npm run build writes dist/).
import('../dist/src/cli/main.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('mailferry: not built yet. Run "npm run build" first.\n');
    process.exit(2);
  }
  throw error;
});
