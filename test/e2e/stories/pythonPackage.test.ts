/**
 * The Python package as a user gets it: `pip install ./python` into a fresh venv with no package index,
 * then README's training script run verbatim in a new project, against the built CLI found on PATH.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MVM_LAUNCHER, cliEnv, mvm } from '../../helpers/cli.js';
import { TORCH_PYTHON } from '../../helpers/writers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The block of README.md marked for this test, as written there. */
function readmeScript(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = /<!-- readme-python-example[^>]*-->\n```python\n([\s\S]*?)\n```/.exec(readme);
  if (!m?.[1]) throw new Error('README.md has no marked python example');
  return `${m[1]}\n`;
}

/** Runs a program synchronously; fails the test with its output when it exits non-zero. */
function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 200_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('python package', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mvm-pypkg-'));
  const venv = join(tmp, 'venv');
  // mvm on PATH (no MVM_BIN): the way the README's reader has it
  const bin = join(tmp, 'bin');
  const env = cliEnv({
    PATH: `${bin}:${join(venv, 'bin')}:${process.env.PATH ?? ''}`,
    PIP_NO_INDEX: '1',
    PIP_CONFIG_FILE: '/dev/null',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    XDG_CACHE_HOME: join(tmp, 'cache'),
  });
  delete env.MVM_BIN;
  delete env.PYTHONPATH;

  beforeAll(() => {
    mkdirSync(bin);
    symlinkSync(MVM_LAUNCHER, join(bin, 'mvm'));
    sh(TORCH_PYTHON, ['-m', 'venv', '--system-site-packages', venv], tmp, env);
    sh(join(venv, 'bin', 'pip'), ['install', './python'], ROOT, env);
  }, 240_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('pip installs offline; the README script trains five versions, deploys the best through a gate', () => {
    const where = sh(
      join(venv, 'bin', 'python'),
      ['-c', 'import mvm, os, importlib.metadata as m; print(os.path.dirname(mvm.__file__), m.version("mvm"))'],
      tmp,
      env,
    ).trim();
    const [pkgDir, version] = where.split(' ');
    expect(pkgDir?.startsWith(venv)).toBe(true);
    expect(version).toBe('0.1.0');
    expect(existsSync(join(pkgDir ?? '', 'py.typed'))).toBe(true);

    const proj = join(tmp, 'proj');
    mkdirSync(proj);
    sh('git', ['init', '-q'], proj, env);
    expect(mvm(['init'], { cwd: proj }).exitCode).toBe(0);
    writeFileSync(join(proj, 'train.py'), readmeScript());
    const out = sh(join(venv, 'bin', 'python'), ['train.py'], proj, env);

    const log = JSON.parse(mvm(['log', '--json'], { cwd: proj }).stdout) as {
      id: string;
      number: number;
      metrics: { loss: number; accuracy: number };
    }[];
    expect(log.map((v) => v.number)).toEqual([5, 4, 3, 2, 1]);
    const lowest = log.reduce((a, b) => (b.metrics.loss < a.metrics.loss ? b : a));
    const served = JSON.parse(mvm(['show', 'deployed:production', '--json'], { cwd: proj }).stdout) as { id: string };
    expect(served.id).toBe(lowest.id);
    // the script asserts the loaded tensors equal the best epoch's before it prints this line
    expect(out).toContain(`production serves v${lowest.number} (loss `);
    const deployments = JSON.parse(mvm(['deployments', '--env', 'production', '--json'], { cwd: proj }).stdout);
    expect(deployments[0].gates).toEqual(['metrics.accuracy >= 0.6']);
    expect(deployments[0].reason).toBe('lowest loss');

    // what each commit added to the store: the first the whole model, the next ones the changed head
    const stored = [...out.matchAll(/^v(\d+): .*, (\d+) bytes stored$/gm)].map((m) => Number(m[2]));
    expect(stored).toHaveLength(5);
    const [first = 0, ...later] = stored;
    expect(first).toBeGreaterThan(10_000);
    for (const s of later) expect(s).toBeLessThan(first / 4);
  }, 240_000);

  it('mvm.torch from the installed package: weights and optimizer state committed and loaded back', () => {
    const r = spawnSync(join(venv, 'bin', 'python'), [join(ROOT, 'python', 'tests', 'installed_torch.py'), '-v'], {
      cwd: tmp,
      env,
      encoding: 'utf8',
      timeout: 200_000,
    });
    expect(r.stderr).toMatch(/\nOK\s*$/);
    expect(r.status).toBe(0);
    expect(Number(/Ran (\d+) tests?/.exec(r.stderr)?.[1])).toBe(3);
  }, 240_000);
});
