import { copyFileSync, mkdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fmtS, fmtMB, fmtBytes, pct } from '../lib/format.mjs';
import { say, table } from '../lib/report.mjs';
import { run, sh, syncDisk, duSb, fileSize, have, installMissing } from '../lib/proc.mjs';
import { TMP } from '../lib/setup.mjs';

/**
 * A backup tool on the A -> B pair in `pdir`: `tool(repo, src)` sets up the repository and returns how to back up
 * the folder src (holding model.safetensors, A then B; the tag names the snapshot, 'a' or 'b') and how to restore
 * the last one into a target folder. The runs, the repository's size after A and its growth with B.
 */
function backupPair(pdir, A, B, tool) {
  const repo = join(pdir, 'repo');
  const src = join(pdir, 'src');
  mkdirSync(src, { recursive: true });
  const { backup, restore } = tool(repo, src);
  const f = join(src, 'model.safetensors');
  copyFileSync(A, f);
  syncDisk();
  const first = backup('a');
  const stored1 = duSb(repo);
  copyFileSync(B, f);
  syncDisk();
  const second = backup('b');
  const growth = duSb(repo) - stored1;
  syncDisk();
  return { first, second, stored1, growth, restore: restore(join(pdir, 'restore')) };
}

/** Times Git LFS, restic and borg on the same A -> B pair (installed with apt-get when missing). */
function runPeers(A, B, sizeA, changedBytes, mvmRow) {
  installMissing('peers', { 'git-lfs': 'git-lfs', restic: 'restic', borg: 'borgbackup' });
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

  // the backup tools: each sets up its repository, then backs up and restores through backupPair
  const backupTools = {
    restic: (repo, src) => {
      const env = {
        ...process.env,
        RESTIC_PASSWORD: 'bench',
        RESTIC_REPOSITORY: repo,
        RESTIC_CACHE_DIR: join(pdir, 'cache'),
      };
      sh('restic', ['init', '-q'], { env });
      return {
        backup: () => run('restic', ['backup', '-q', src], { env }),
        restore: (target) => run('restic', ['restore', '-q', 'latest', '--target', target], { env }),
      };
    },
    borg: (repo, src) => {
      const env = {
        ...process.env,
        BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
        BORG_BASE_DIR: join(pdir, 'base'),
      };
      sh('borg', ['init', '-e', 'none', repo], { env });
      return {
        backup: (tag) => run('borg', ['create', '--compression', 'zstd,3', `${repo}::${tag}`, '.'], { env, cwd: src }),
        restore: (target) => {
          mkdirSync(target);
          return run('borg', ['extract', `${repo}::b`], { env, cwd: target });
        },
      };
    },
  };
  for (const [name, tool] of Object.entries(backupTools)) {
    if (have(name)) step(name, () => backupPair(pdir, A, B, tool));
    else skipped.push(`${name} (not installed)`);
  }

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
