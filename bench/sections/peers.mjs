// The peers section: Git LFS, restic and borg on the same A -> B pair.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fmtS, fmtMB, fmtBytes, pct } from '../lib/format.mjs';
import { log, say, table } from '../lib/report.mjs';
import { run, sh, syncDisk, duSb, fileSize, have } from '../lib/proc.mjs';
import { TMP } from '../lib/setup.mjs';

/** Times Git LFS, restic and borg on the same A -> B pair (installed with apt-get when missing). */
function runPeers(A, B, sizeA, changedBytes, mvmRow) {
  const want = { 'git-lfs': 'git-lfs', restic: 'restic', borg: 'borgbackup' };
  const missing = Object.entries(want).filter(([bin]) => !have(bin));
  if (missing.length && process.getuid?.() === 0) {
    log(`peers: apt-get install -y ${missing.map(([, p]) => p).join(' ')}`);
    spawnSync('apt-get', ['install', '-y', '-q', ...missing.map(([, p]) => p)], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  const rows = [];
  const res = {};
  const skipped = [];
  const pdir = join(TMP, 'peers');
  const step = (name, fn) => {
    try {
      res[name] = fn();
      const p = res[name];
      rows.push([
        name,
        fmtS(p.first.wall),
        fmtMB(p.first.rssKB),
        `${fmtBytes(p.stored1)} (${pct(p.stored1 / sizeA)})`,
        fmtS(p.second.wall),
        `+${fmtBytes(p.growth)} (${(p.growth / changedBytes).toFixed(2)}x changed)`,
        fmtS(p.restore.wall),
        fmtMB(Math.max(p.first.rssKB, p.second.rssKB, p.restore.rssKB)),
      ]);
    } catch (e) {
      skipped.push(`${name} (${String(e.message ?? e).split('\n')[0]})`);
    }
    rmSync(pdir, { recursive: true, force: true });
  };
  const gitEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'b@x',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'b@x',
  };

  if (have('git-lfs')) {
    step('git-lfs', () => {
      mkdirSync(pdir, { recursive: true });
      sh('git', ['init', '-q'], { cwd: pdir });
      sh('git', ['lfs', 'install', '--local'], { cwd: pdir });
      sh('git', ['lfs', 'track', '*.safetensors'], { cwd: pdir });
      sh('git', ['add', '.gitattributes'], { cwd: pdir, env: gitEnv });
      sh('git', ['commit', '-q', '-m', 'attrs'], { cwd: pdir, env: gitEnv });
      const f = join(pdir, 'model.safetensors');
      copyFileSync(A, f);
      syncDisk();
      const add1 = run('git', ['add', 'model.safetensors'], { cwd: pdir, env: gitEnv });
      const c1 = run('git', ['commit', '-q', '-m', 'A'], { cwd: pdir, env: gitEnv });
      const stored1 = duSb(join(pdir, '.git'));
      copyFileSync(B, f);
      syncDisk();
      const add2 = run('git', ['add', 'model.safetensors'], { cwd: pdir, env: gitEnv });
      const c2 = run('git', ['commit', '-q', '-m', 'B'], { cwd: pdir, env: gitEnv });
      const growth = duSb(join(pdir, '.git')) - stored1;
      unlinkSync(f);
      syncDisk();
      const restore = run('git', ['checkout', '--', 'model.safetensors'], { cwd: pdir, env: gitEnv });
      if (fileSize(f) !== fileSize(B)) throw new Error('restore size mismatch');
      return {
        first: { wall: add1.wall + c1.wall, rssKB: Math.max(add1.rssKB, c1.rssKB) },
        second: { wall: add2.wall + c2.wall, rssKB: Math.max(add2.rssKB, c2.rssKB) },
        stored1,
        growth,
        restore,
      };
    });
  } else skipped.push('git-lfs (not installed)');

  if (have('restic')) {
    step('restic', () => {
      const repo = join(pdir, 'repo');
      const src = join(pdir, 'src');
      mkdirSync(src, { recursive: true });
      const env = {
        ...process.env,
        RESTIC_PASSWORD: 'bench',
        RESTIC_REPOSITORY: repo,
        RESTIC_CACHE_DIR: join(pdir, 'cache'),
      };
      sh('restic', ['init', '-q'], { env });
      const f = join(src, 'model.safetensors');
      copyFileSync(A, f);
      syncDisk();
      const first = run('restic', ['backup', '-q', src], { env });
      const stored1 = duSb(repo);
      copyFileSync(B, f);
      syncDisk();
      const second = run('restic', ['backup', '-q', src], { env });
      const growth = duSb(repo) - stored1;
      const target = join(pdir, 'restore');
      syncDisk();
      const restore = run('restic', ['restore', '-q', 'latest', '--target', target], { env });
      return { first, second, stored1, growth, restore };
    });
  } else skipped.push('restic (not installed)');

  if (have('borg')) {
    step('borg', () => {
      const repo = join(pdir, 'repo');
      const src = join(pdir, 'src');
      mkdirSync(src, { recursive: true });
      const env = {
        ...process.env,
        BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
        BORG_BASE_DIR: join(pdir, 'base'),
      };
      sh('borg', ['init', '-e', 'none', repo], { env });
      const f = join(src, 'model.safetensors');
      copyFileSync(A, f);
      syncDisk();
      const first = run('borg', ['create', '--compression', 'zstd,3', `${repo}::a`, '.'], { env, cwd: src });
      const stored1 = duSb(repo);
      copyFileSync(B, f);
      syncDisk();
      const second = run('borg', ['create', '--compression', 'zstd,3', `${repo}::b`, '.'], { env, cwd: src });
      const growth = duSb(repo) - stored1;
      const target = join(pdir, 'restore');
      mkdirSync(target);
      syncDisk();
      const restore = run('borg', ['extract', `${repo}::b`], { env, cwd: target });
      return { first, second, stored1, growth, restore };
    });
  } else skipped.push('borg (not installed)');

  if (rows.length) {
    rows.unshift(mvmRow);
    table(
      `Peers on the same A -> B pair (${fmtBytes(sizeA)}, one run each)`,
      ['tool', 'first version', 'RSS', 'stored', 'second (B)', 'growth', 'full restore', 'peak RSS'],
      rows,
    );
    say('');
    say(
      'git-lfs: `git add` + `git commit` (the first commit stores the object under .git/lfs); restore = `git ' +
        'checkout -- file` after deleting it. restic: `backup` of the folder (repository format default of the ' +
        'installed version); restore = `restore latest`. borg: `create --compression zstd,3`; restore = `extract`.',
    );
  }
  if (skipped.length) {
    say('');
    say(`Peers skipped: ${skipped.join('; ')}`);
  }
  return { ...res, skipped };
}
export { runPeers };
