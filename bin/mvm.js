#!/usr/bin/env node
// Runs the compiled CLI: dist/bundle/mvm.js, built by `npm run build` (tsc, then scripts/bundle.mjs).
let cli;
try {
  cli = await import('../dist/bundle/mvm.js');
} catch (e) {
  // a checkout where only tsc ran, or nothing: say what to do instead of a stack trace
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('dist/bundle/mvm.js')) throw e;
  process.stderr.write('mvm: the command line is not built (dist/bundle/mvm.js is missing): run npm run build\n');
  process.exit(1);
}
await cli.main(process.argv.slice(2));
