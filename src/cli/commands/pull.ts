import { isMvmError } from '../../errors.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { divergedWarning, formatBytes, print, printJson, versionLabel } from '../format/text.js';
import { progressBar } from '../progress.js';

interface Args extends GlobalArgs {
  remote?: string;
  branch?: string;
  force?: boolean;
  rebase?: boolean;
  merge?: boolean;
  full?: boolean;
  jobs?: number;
}

/** `mvm pull`: fetch, fast-forward the branch, check it out. */
export const pullCommand: Command<Args> = {
  command: 'pull [remote] [branch]',
  describe: 'Fetch from a remote, fast-forward the branch to it and check it out',
  builder: (y) =>
    y
      .positional('remote', { type: 'string', describe: 'Remote name (default origin)' })
      .positional('branch', { type: 'string', describe: 'Branch (default the current one)' })
      .option('force', { alias: 'f', type: 'boolean', describe: 'Discard local changes to tracked files' })
      .option('rebase', {
        type: 'boolean',
        describe: 'What pull does anyway when the branch has diverged: replay your versions, unchanged, on top',
      })
      .option('merge', {
        type: 'boolean',
        describe:
          'When the branch has diverged, replay your changes path by path (a path both sides changed is a ' +
          'conflict; a replayed version whose files change carries no metrics)',
      })
      .option('full', {
        type: 'boolean',
        describe: 'In a fresh git clone: keep a local copy of every chunk (default: a partial store, as clone makes)',
      })
      .option('jobs', { alias: 'j', type: 'number', describe: 'Transfers at once' })
      .option('json', { type: 'boolean' })
      .example('mvm pull', 'bring the current branch up to date with origin')
      .example(
        'git clone URL proj && cd proj && mvm pull',
        'in a fresh git clone: create the store and restore the model mvm.lock names',
      ),
  run: async (argv) => {
    const { pull, pullIntoNewStore, findSharedWorkspace } = await import('../../ops/pull.js');
    const opts = {
      remote: argv.remote,
      branch: argv.branch,
      force: argv.force,
      merge: argv.merge,
      full: argv.full,
      jobs: argv.jobs,
      progress: progressBar(!argv.quiet && !argv.json),
    };
    let r;
    let repo;
    try {
      repo = openRepo();
    } catch (e) {
      // a fresh git clone: no store yet, but the project names its remote in mvm-remotes.json
      const root = isMvmError(e, 'NOT_A_REPOSITORY') ? findSharedWorkspace(process.cwd()) : null;
      if (!root) throw e;
      repo = null;
      r = await pullIntoNewStore(root, opts);
    }
    // a store with no version yet beside mvm-remotes.json (made by 'mvm remote trust' in a fresh git clone) is filled
    // the same way
    if (repo)
      r =
        repo.headId() === null && findSharedWorkspace(repo.root) === repo.root
          ? await pullIntoNewStore(repo.root, opts)
          : await pull(repo, opts);
    if (!r) throw new Error('unreachable: pull produced no result');
    if (argv.json) return printJson(r);
    for (const w of divergedWarning(r.fetched?.divergedNumbers ?? [], r.remote)) print(w);
    if (r.outcome === 'up-to-date') return print(`Already up to date: ${r.branch} at ${versionLabel(r.to, r.number)}`);
    if (r.outcome === 'ahead')
      return print(`${r.branch} is ahead of ${r.remote}/${r.branch}; nothing to pull (push it with mvm push)`);
    if (r.outcome === 'rebased') {
      for (const x of r.replayed ?? [])
        print(
          `replayed ${x.from.slice(0, 12)} as ${x.to.slice(0, 12)}` +
            `${r.mode === 'merge' ? ' path by path' : ' unchanged'}${x.metricsKept ? '' : ' (its metrics left out)'}`,
        );
      if (r.overridden?.length)
        print(
          `note: on top of theirs, your version sets back ${r.overridden.length} path(s) they changed: ` +
            `${r.overridden.slice(0, 5).join(', ')}${r.overridden.length > 5 ? ', ...' : ''} (their version keeps ` +
            `them; 'mvm pull --merge' merges path by path instead)`,
        );
      return print(
        `Rebased ${r.branch} onto ${r.remote}/${r.branch}: now at ${versionLabel(r.to, r.number)}` +
          `${r.number === null ? " (numbered when pushed: 'mvm push')" : ''}`,
      );
    }
    const c = r.checkout;
    print(
      `Fast-forward ${r.branch} ${r.from ? r.from.slice(0, 12) : '(new)'} -> ${versionLabel(r.to, r.number)}: ` +
        `fetched ${formatBytes(r.fetched.bytes)}` +
        `${c ? `, ${c.written.length} file(s) written, ${c.removed.length} removed` : ''}`,
    );
  },
};
