/**
 * docs/CI.md, run: the one-time setup block, then the GitHub Actions workflow's `run: |` steps and the GitLab job's
 * `script:` lines, extracted verbatim and run in order with bash in fresh project folders against a folder remote.
 * Stand-ins: the install step (mvm is put on PATH instead), `python3 train.py` (a small script here that writes a
 * model and the metrics the test chooses), and `gh` / `curl` (record what they would post).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MVM_BIN, cliEnv, mvm, testdir } from '../../helpers/cli.js';
import { json, write } from '../../helpers/assertions.js';
import { git } from '../../helpers/story.js';

const DOC = readFileSync(resolve(import.meta.dirname, '../../../docs/CI.md'), 'utf8');

/** The body of the first code fence of a language after a heading. */
function fence(heading: string, lang: string): string {
  const from = DOC.indexOf(`\n${heading}\n`);
  expect(from, heading).toBeGreaterThanOrEqual(0);
  const start = DOC.indexOf(`\n\`\`\`${lang}\n`, from);
  const body = start + lang.length + 5;
  return DOC.slice(body, DOC.indexOf('\n```\n', body));
}

const indent = (line: string) => line.length - line.trimStart().length;

/** Each `run: |` block of a workflow with the step's name, dedented, in order. */
function runSteps(yaml: string): { name: string; script: string }[] {
  const lines = yaml.split('\n');
  const steps: { name: string; script: string }[] = [];
  let name = '';
  for (let i = 0; i < lines.length; i++) {
    const named = /^\s*- name: (.*)$/.exec(lines[i]!);
    if (named) name = named[1]!;
    if (!/^\s*run: \|$/.test(lines[i]!)) continue;
    const base = indent(lines[i]!);
    const body: string[] = [];
    while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || indent(lines[i + 1]!) > base))
      body.push(lines[++i]!);
    const cut = Math.min(...body.filter((l) => l.trim()).map(indent));
    steps.push({ name, script: body.map((l) => l.slice(cut)).join('\n') });
  }
  return steps;
}

/** The `- ` lines under a job's `script:`, in order. */
function scriptLines(yaml: string): string[] {
  const lines = yaml.split('\n');
  const at = lines.findIndex((l) => /^\s*script:$/.test(l));
  const base = indent(lines[at]!);
  const out: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (indent(l) <= base) break;
    out.push(l.trim().replace(/^- /, ''));
  }
  return out;
}

const TRAIN_PY = `import argparse, json, os, random
p = argparse.ArgumentParser()
p.add_argument("--out")
p.add_argument("--metrics")
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
acc, loss = float(os.environ["ACCURACY"]), float(os.environ["LOSS"])
random.seed(acc * 1000 + loss)
with open(os.path.join(a.out, "model.bin"), "wb") as f:
    f.write(bytes(random.getrandbits(8) for _ in range(50000)))
with open(a.metrics, "w") as f:
    json.dump({"accuracy": acc, "loss": loss}, f)
`;

/** Stand-ins on PATH: mvm itself, and gh and curl recording their arguments and the body they would post. */
function toolbox(dir: string, log: string): string {
  const bin = join(dir, 'bin');
  write(join(bin, 'mvm'), `#!/bin/sh\nexec "${process.execPath}" "${MVM_BIN}" "$@"\n`, 0o755);
  const record = (tool: string) =>
    [
      '#!/bin/sh',
      `echo "${tool} $*" >> "${log}"`,
      'prev=""',
      'for a in "$@"; do',
      `  case "$a" in body@*) cat "$(echo "$a" | cut -c6-)" >> "${log}";; esac`,
      `  if [ "$prev" = --body-file ]; then cat "$a" >> "${log}"; fi`,
      '  prev="$a"',
      'done',
      '',
    ].join('\n');
  write(join(bin, 'gh'), record('gh'), 0o755);
  write(join(bin, 'curl'), record('curl'), 0o755);
  return bin;
}

interface Run {
  status: number;
  out: string;
  err: string;
}

/** A fresh git checkout of the project (train.py and a commit), as a CI runner has. */
function project(root: string, name: string): string {
  const dir = join(root, name);
  write(join(dir, 'train.py'), TRAIN_PY);
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['add', '.']);
  git(dir, ['-c', 'user.name=T', '-c', 'user.email=t@example.com', 'commit', '-qm', `change ${name}`]);
  return dir;
}

function bash(script: string, cwd: string, env: Record<string, string>): Run {
  const r = spawnSync('bash', ['-eo', 'pipefail', '-c', script], {
    cwd,
    env: cliEnv(env),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('docs/CI.md', () => {
  const github = runSteps(fence('## GitHub Actions', 'yaml'));
  const gitlab = scriptLines(fence('## GitLab CI', 'yaml'));

  it('the GitHub steps and the GitLab script run the same commands', () => {
    expect(github.map((s) => s.name)).toEqual([
      'Install mvm',
      "Fetch the team's models",
      'Train',
      'Commit and push the model',
      'Compare with production',
      "Deploy the best model that passes production's gates",
    ]);
    // every mvm command of the workflow has its GitLab counterpart (the variables differ by CI)
    const verbs = (text: string) => [...text.matchAll(/\bmvm(?: -C store)? ([a-z]+)/g)].map((m) => m[1]);
    const gh = verbs(github.map((s) => s.script).join('\n')).filter((v) => v !== 'show');
    const gl = verbs(gitlab.join('\n')).filter((v) => v !== 'show');
    expect(new Set(gl)).toEqual(new Set(gh));
    expect(gitlab.at(-1)).toContain('mvm -C store deploy --best "$METRIC" --env production');
  });

  it('GitHub: commits and pushes each run, summarises against production, deploys only what passes', () => {
    const t = testdir();
    try {
      const remote = t.path('remote');
      const calls = t.path('calls.log');
      const PATH = `${toolbox(t.dir, calls)}:${process.env.PATH}`;
      const base = { PATH, MVM_REMOTE: remote, MVM_AUTHOR: 'CI <ci@example.com>' };
      // once, on a workstation: v1 (accuracy 0.9, loss 0.3) pushed and deployed, with production's gates
      const ws = project(t.dir, 'workstation');
      const setup = bash(fence('What it needs:', 'sh'), ws, { ...base, ACCURACY: '0.9', LOSS: '0.3' });
      expect(setup.status, setup.err).toBe(0);

      /** One workflow run in a fresh checkout: each step in order, stopping at the first that fails. */
      const workflow = (n: number, event: string, ref: string, accuracy: number, loss: number, pr = '') => {
        const dir = project(t.dir, `run${n}`);
        const summary = join(dir, '..', `summary${n}.md`);
        const env = {
          ...base,
          ACCURACY: String(accuracy),
          LOSS: String(loss),
          METRIC: 'accuracy',
          GITHUB_EVENT_NAME: event,
          GITHUB_REF: ref,
          GITHUB_SHA: git(dir, ['rev-parse', 'HEAD']),
          GITHUB_STEP_SUMMARY: summary,
          GITHUB_SERVER_URL: 'https://github.com',
          GITHUB_REPOSITORY: 'team/model',
          GITHUB_RUN_ID: String(1000 + n),
          PR_NUMBER: pr,
          GH_TOKEN: 'token',
        };
        const steps: Record<string, Run> = {};
        for (const step of github) {
          if (step.name === 'Install mvm') continue; // mvm is on PATH already
          const r = bash(step.script, dir, env);
          steps[step.name] = r;
          if (r.status !== 0) break;
        }
        return { steps, summary: existsSync(summary) ? readFileSync(summary, 'utf8') : '', dir };
      };
      const DEPLOY = "Deploy the best model that passes production's gates";
      // what production serves, as the run's clone sees it after its deploy step (the env is read from the remote)
      const served = (dir: string) =>
        json(mvm(['show', 'deployed:production', '--json'], { cwd: join(dir, 'store') })).number as number;

      // run 1 on main: better accuracy, but loss fails production's gate: pushed, compared, deploy refused
      const r1 = workflow(1, 'push', 'refs/heads/main', 0.96, 0.9);
      expect(r1.summary).toContain('### The model of this run against production');
      expect(r1.summary).toMatch(/^\| field \| v1 [0-9a-f]{12} \| v2 [0-9a-f]{12} \|$/m);
      expect(r1.summary).toContain('| accuracy (higher is better) | 0.9 | 0.96 (+0.06 better) |');
      expect(r1.steps[DEPLOY]!.status).toBe(1);
      expect(r1.steps[DEPLOY]!.err).toContain('v2 (accuracy 0.96): metrics.loss is 0.9, needs <= 0.5 (short by 0.4)');
      expect(served(r1.dir)).toBe(1);

      // run 2 on main: a model that passes: the deploy walks past v2 (loss) and deploys v3
      const r2 = workflow(2, 'push', 'refs/heads/main', 0.93, 0.2);
      const d2 = r2.steps[DEPLOY]!;
      expect(d2.status, d2.err).toBe(0);
      expect(d2.out).toMatch(/^Deployed v3 [0-9a-f]{12} to production \(was v1 [0-9a-f]{12}\)$/m);
      expect(d2.out).toContain('skipped v2 (accuracy 0.96): metrics.loss is 0.9, needs <= 0.5');
      expect(served(r2.dir)).toBe(3);

      // a pull request: its model goes to pr-7, the comparison is posted, nothing is deployed
      const pr = workflow(3, 'pull_request', 'refs/pull/7/merge', 0.99, 0.1, '7');
      expect(pr.steps[DEPLOY]!.status).toBe(0);
      expect(pr.steps[DEPLOY]!.out).toBe('');
      const posted = readFileSync(calls, 'utf8');
      expect(posted).toContain('gh pr comment 7 --body-file compare.md');
      expect(posted).toMatch(/^\| field \| v3 [0-9a-f]{12} \| v4 [0-9a-f]{12} \|$/m);
      const branches = json<{ name: string }[]>(mvm(['branch', '--json'], { cwd: pr.dir + '/store' }));
      expect(branches.map((b) => b.name)).toContain('pr-7');

      // run 4 on main: a worse model: pushed (v5), deploy refused; the pull request's v4 is not on main
      const r4 = workflow(4, 'push', 'refs/heads/main', 0.91, 0.25);
      expect(r4.summary).toContain('| accuracy (higher is better) | 0.93 | 0.91 (-0.02 worse) |');
      const d4 = r4.steps[DEPLOY]!;
      expect(d4.status).toBe(1);
      expect(d4.err).toMatch(/^mvm: no version on the current branch ranked above v3 by accuracy/);
      expect(d4.err).not.toContain('v4');
      expect(served(r4.dir)).toBe(3);
      const log = json<{ number: number }[]>(mvm(['log', '--json'], { cwd: join(r4.dir, 'store') }));
      expect(log.map((v) => v.number)).toEqual([5, 3, 2, 1]);
    } finally {
      t.cleanup();
    }
  }, 480_000); // 215 s measured at load 13 on 2 cores (five runs of the workflow, about 50 mvm commands)

  it('GitLab: the script lines, a merge request then main', () => {
    const t = testdir();
    try {
      const remote = t.path('remote');
      const calls = t.path('calls.log');
      const PATH = `${toolbox(t.dir, calls)}:${process.env.PATH}`;
      const base = { PATH, MVM_REMOTE: remote };
      const ws = project(t.dir, 'workstation');
      expect(bash(fence('What it needs:', 'sh'), ws, { ...base, ACCURACY: '0.9', LOSS: '0.3' }).status).toBe(0);
      const job = (n: number, accuracy: number, mr: string) => {
        const dir = project(t.dir, `job${n}`);
        const env = {
          ...base,
          ACCURACY: String(accuracy),
          LOSS: '0.2',
          METRIC: 'accuracy',
          CI_PIPELINE_SOURCE: mr ? 'merge_request_event' : 'push',
          CI_MERGE_REQUEST_IID: mr,
          CI_COMMIT_BRANCH: mr ? '' : 'main',
          CI_DEFAULT_BRANCH: 'main',
          CI_COMMIT_TITLE: `change ${n}`,
          CI_COMMIT_SHA: git(dir, ['rev-parse', 'HEAD']),
          CI_PIPELINE_URL: `https://gitlab.example.com/p/${n}`,
          CI_PIPELINE_ID: String(n),
          CI_API_V4_URL: 'https://gitlab.example.com/api/v4',
          CI_PROJECT_ID: '42',
          GITLAB_API_TOKEN: 'token',
        };
        // the install line is left out: mvm is on PATH already
        const script = gitlab.filter((l) => !l.startsWith('npm install')).join('\n');
        return { run: bash(script, dir, env), dir };
      };
      const mr = job(1, 0.95, '3');
      expect(mr.run.status, mr.run.err).toBe(0);
      const note = readFileSync(calls, 'utf8');
      expect(note).toContain('/projects/42/merge_requests/3/notes');
      expect(note).toMatch(/^\| accuracy \(higher is better\) \| 0\.9 \| 0\.95 \(\+0\.05 better\) \|$/m);
      expect(readFileSync(join(mr.dir, 'compare.md'), 'utf8')).toContain('| field |');
      const main = job(2, 0.94, '');
      expect(main.run.status, main.run.err).toBe(0);
      expect(main.run.out).toMatch(/^Deployed v3 [0-9a-f]{12} to production \(was v1 [0-9a-f]{12}\)$/m);
      const worse = job(3, 0.92, '');
      expect(worse.run.status).toBe(1);
      expect(worse.run.err).toContain('no version on the current branch ranked above v3 by accuracy');
    } finally {
      t.cleanup();
    }
  }, 300_000);
});
