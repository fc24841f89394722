import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MvmError } from '../errors.js';
import { assertSafeVersion } from '../core/versionCheck.js';
import { flattenMetrics } from '../core/values.js';
import { EVAL_MAX_STDERR, EVAL_MAX_STDOUT } from '../core/limits.js';
import type { Scalar } from '../core/objects.js';
import { ensureVersionFiles, type Repository, withPool } from '../repo/repository/index.js';
import { resolveRevision, numberOf, recordAnnotation } from '../repo/history/index.js';
import { restoreFile } from '../repo/workspace/index.js';
import { safeDestination } from '../repo/deploy/index.js';
import { compareVersions, type CompareOptions, type CompareResult } from '../repo/insight/index.js';

/** Options of `mvm eval`. */
export interface EvalOptions extends CompareOptions {
  /** The command and its arguments; `{path}` is replaced by the version's folder. */
  command: string[];
  /** Do not record the metrics as annotations. */
  dryRun?: boolean;
  /** Seconds before a run is stopped (default: no limit). */
  timeoutSeconds?: number;
  /** Called before each version runs (for progress). */
  onStart?: (rev: string) => void;
  /** Receives the evaluator's stderr as it runs, so a long evaluation shows its progress. */
  onStderr?: (chunk: string) => void;
}

/** Runs a command, collecting stdout and stderr (stderr also passed on as it comes), with an optional time limit. */
function runCommand(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number; onStderr?: (chunk: string) => void },
): Promise<{
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  error?: Error;
  timedOut: boolean;
}> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let error: Error | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < EVAL_MAX_STDOUT) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < EVAL_MAX_STDERR) stderr += d;
      opts.onStderr?.(d);
    });
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGTERM');
        }, opts.timeoutMs)
      : null;
    child.on('error', (e) => (error = e));
    child.on('close', (status, signal) => {
      if (timer) clearTimeout(timer);
      done({ status, signal, stdout, stderr, error, timedOut });
    });
  });
}

/** How one version's evaluation went. */
export interface EvalRun {
  rev: string;
  id: string;
  number: number | null;
  ok: boolean;
  metrics: Record<string, Scalar>;
  exitCode: number | null;
  seconds: number;
  error?: string;
  annotation?: string;
}

/** Every run and the comparison of those that succeeded. */
export interface EvalResult {
  runs: EvalRun[];
  comparison: CompareResult | null;
}

/** The metrics object a command printed: the last stdout line that is a JSON object, else all of stdout. */
export function parseMetricsOutput(stdout: string): Record<string, Scalar> {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      return flattenMetrics(JSON.parse(t), 'command output');
    } catch (e) {
      if (e instanceof MvmError) throw e;
    }
  }
  let whole: unknown;
  try {
    whole = JSON.parse(stdout);
  } catch {
    throw new MvmError(
      'COMMAND_FAILED',
      'the command printed no JSON object of metrics on stdout: mvm expects the last line of stdout to be a JSON ' +
        'object of metric names to numbers, e.g. {"accuracy": 0.93, "loss": 0.21}',
      { hint: 'print the metrics as JSON on the last line of stdout; logs go to stderr' },
    );
  }
  return flattenMetrics(whole, 'command output');
}

/**
 * Materialises each version into a temporary folder (the workspace is not
 * touched), runs the user's command on it with `{path}` replaced and MVM_PATH
 * set, reads a JSON object of metrics from its stdout, records them as an
 * annotation, and compares the versions. A failing version is reported and
 * the others still run.
 */
export async function evaluate(repo: Repository, revs: string[], opts: EvalOptions): Promise<EvalResult> {
  if (!opts.command.length)
    throw new MvmError('BAD_ARGUMENT', 'no command to run', { hint: 'mvm eval v1 v2 -- python eval.py {path}' });
  if (!revs.length)
    throw new MvmError('BAD_ARGUMENT', 'name the versions to evaluate', {
      hint: 'mvm eval v1 v2 -- python eval.py {path}',
    });
  const targets = revs.map((rev) => ({ rev, id: resolveRevision(repo, rev) }));
  // the check checkout makes, for every version before any runs: a hostile manifest is refused, not written
  for (const { id } of targets) assertSafeVersion(repo.version(id), id);
  const runs: EvalRun[] = [];
  for (const { rev, id } of targets) {
    opts.onStart?.(rev);
    const dir = mkdtempSync(join(tmpdir(), 'mvm-eval-'));
    const started = performance.now();
    const run: EvalRun = { rev, id, number: numberOf(repo, id), ok: false, metrics: {}, exitCode: null, seconds: 0 };
    try {
      const v = repo.version(id);
      // a partial store fetches the file objects, then the chunks of every file, in one batch each first
      await ensureVersionFiles(repo, [id]);
      await repo.chunks.ensure(Object.values(v.files).flatMap((f) => repo.file(f.file).chunks));
      await withPool(async (pool) => {
        for (const [path, f] of Object.entries(v.files)) {
          const dest = safeDestination(dir, path);
          await restoreFile(repo, pool, repo.file(f.file), dest, f.mode, { tmpDir: dirname(dest), path });
        }
      });
      const args = opts.command.map((a) => a.split('{path}').join(dir));
      // one argument with spaces is a shell command line; several are run as given
      const shell = args.length === 1 && /\s/.test(args[0]!);
      const r = await runCommand(shell ? '/bin/sh' : args[0]!, shell ? ['-c', args[0]!] : args.slice(1), {
        cwd: repo.root,
        env: { ...process.env, MVM_PATH: dir, MVM_VERSION: id },
        timeoutMs: opts.timeoutSeconds ? opts.timeoutSeconds * 1000 : undefined,
        onStderr: opts.onStderr,
      });
      run.exitCode = r.status;
      if (r.error) throw new MvmError('COMMAND_FAILED', `could not run ${args[0]}: ${r.error.message}`);
      if (r.status !== 0) {
        const tail = r.stderr.trim().split('\n').slice(-3).join(' | ');
        const how = r.timedOut ? `was stopped after ${opts.timeoutSeconds} s` : `exited with ${r.status ?? r.signal}`;
        throw new MvmError('COMMAND_FAILED', `the command ${how}${tail ? `: ${tail}` : ''}`);
      }
      run.metrics = parseMetricsOutput(r.stdout);
      if (!Object.keys(run.metrics).length)
        throw new MvmError('COMMAND_FAILED', 'the command printed an empty metrics object');
      run.ok = true;
      if (!opts.dryRun) {
        run.annotation = (
          await recordAnnotation(repo, id, { metrics: run.metrics, note: `mvm eval: ${opts.command.join(' ')}` })
        ).id;
      }
    } catch (e) {
      run.error = e instanceof MvmError ? e.message : String((e as Error)?.message ?? e);
    } finally {
      run.seconds = (performance.now() - started) / 1000;
      rmSync(dir, { recursive: true, force: true });
    }
    runs.push(run);
  }
  const good = runs.filter((r) => r.ok);
  return {
    runs,
    comparison: good.length
      ? compareVersions(
          repo,
          good.map((r) => r.id),
          opts,
        )
      : null,
  };
}
