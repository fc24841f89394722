// The run's settings, set up once when first imported: the parsed command line and the scratch folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordIfAsked } from '../record.mjs';
import { MiB, GiB } from './format.mjs';
import { log } from './report.mjs';

const HERE = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = resolve(HERE, '..');
// the launcher users run: Node started from the start-up snapshot where it loads, bin/mvm.js otherwise
const MVM = join(ROOT, 'bin', 'mvm');
const CHUNK = MiB; // mvm's default chunk size, also the fixed-chunking baseline

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const o = {
    sizeGib: 1,
    bigGib: 4,
    versions: 10000,
    versionsBudget: 720,
    reps: 3,
    peers: false,
    remotes: false,
    finetuneMib: 64,
    quick: false,
    out: null,
    keep: false,
  };
  const num = (i, name) => {
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a non-negative number`);
    return v;
  };
  const given = new Set();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--size-gib') {
      o.sizeGib = num(i++, 'size-gib');
      given.add('size');
    } else if (a === '--big-gib') {
      o.bigGib = num(i++, 'big-gib');
      given.add('big');
    } else if (a === '--versions') {
      o.versions = Math.floor(num(i++, 'versions'));
      given.add('versions');
    } else if (a === '--versions-budget') {
      o.versionsBudget = num(i++, 'versions-budget');
      given.add('budget');
    } else if (a === '--reps') {
      o.reps = Math.max(1, Math.floor(num(i++, 'reps')));
      given.add('reps');
    } else if (a === '--finetune-mib') {
      o.finetuneMib = num(i++, 'finetune-mib');
    } else if (a === '--peers') o.peers = true;
    else if (a === '--remotes') o.remotes = true;
    else if (a === '--quick') o.quick = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--record') o.record = true;
    else if (a === '--out') o.out = resolve(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: node bench/run.mjs [--size-gib N] [--big-gib N|0] [--versions N|0] [--versions-budget S] [--reps N]' +
          ' [--peers] [--remotes] [--finetune-mib N] [--quick] [--out FILE] [--keep] [--record]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (o.quick) {
    if (!given.has('size')) o.sizeGib = 1 / 16; // 64 MiB
    if (!given.has('big')) o.bigGib = 0;
    if (!given.has('versions')) o.versions = 500;
    if (!given.has('reps')) o.reps = 1;
    if (!given.has('budget')) o.versionsBudget = 120;
  }
  if (o.sizeGib <= 0) throw new Error('--size-gib must be > 0');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
recordIfAsked(process.argv.slice(2));

const TMP = mkdtempSync('/tmp/mvm-bench-');
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  if (opts.keep) log(`kept ${TMP}`);
  else rmSync(TMP, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

const SIZE = Math.round(opts.sizeGib * GiB);
const DEDUP_SIZE = Math.min(SIZE, 256 * MiB);
const seedOf = (tag) => (name) => `${tag}:${name}`;
export { HERE, ROOT, MVM, CHUNK, opts, TMP, cleanup, SIZE, DEDUP_SIZE, seedOf };
