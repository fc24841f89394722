#!/usr/bin/env node
// Runs the compiled CLI: dist/bundle/mvm.js, built by `npm run build` (tsc, then scripts/bundle.mjs).
import { main } from '../dist/bundle/mvm.js';

await main(process.argv.slice(2));
