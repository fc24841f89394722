/**
 * The Python module (python/mvm) against real repositories: its own
 * unittest suite, run with the machine's python3 and the built CLI.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MVM_BIN, cliEnv } from '../../helpers/cli.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('python module', () => {
  it('python3 -m unittest: the module functions, Repo and its results, errors by family, finder, build backend', () => {
    const r = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', 'python/tests', '-v'], {
      cwd: ROOT,
      env: cliEnv({ MVM_BIN }),
      encoding: 'utf8',
      timeout: 400_000,
    });
    const ran = /Ran (\d+) tests?/.exec(r.stderr);
    expect(r.stderr).toMatch(/\nOK\s*$/);
    expect(r.status).toBe(0);
    expect(Number(ran?.[1])).toBeGreaterThanOrEqual(17);
    // about 90 mvm processes: 30 s of CPU; 216 s measured at load 12 on two cores
  }, 420_000);
});
