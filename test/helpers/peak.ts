import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, MVM_BIN, type RunOptions, type RunResult } from './cli.js';

// python's getrusage(RUSAGE_CHILDREN) after the child exits: the peak resident set of the mvm process
// (its worker threads included), as the kernel counted it
const SCRIPT = [
  'import resource, subprocess, sys',
  'r = subprocess.run(sys.argv[2:])',
  'open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))',
  'sys.exit(r.returncode)',
].join('\n');

let seq = 0;

/** Runs `mvm args...` like `mvm()` and also returns the peak resident memory of the process, in MiB. */
export function mvmPeak(args: string[], opts: RunOptions): RunResult & { peakMiB: number } {
  const out = join(tmpdir(), `mvm-peak-${process.pid}-${++seq}`);
  try {
    const r = spawnSync('python3', ['-c', SCRIPT, out, process.execPath, MVM_BIN, ...args], {
      cwd: opts.cwd,
      env: cliEnv(opts.env),
      encoding: 'utf8',
      input: opts.input,
    });
    const kib = Number(readFileSync(out, 'utf8'));
    return { exitCode: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, peakMiB: kib / 1024 };
  } finally {
    rmSync(out, { force: true });
  }
}
