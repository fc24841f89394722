import { EXIT } from '../../errors.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { divergedWarning, formatBytes, print, printJson } from '../format/text.js';
import { progressBar } from '../progress.js';
import type { PushOptions } from '../../ops/push.js';

type Args = GlobalArgs & Omit<PushOptions, 'progress'>;

/** `mvm push`: send branches and tags to a remote. */
export const pushCommand: Command<Args> = {
  command: 'push [remote] [refs..]',
  describe: 'Send branches or tags, and the versions they reach, to a remote (only what it lacks)',
  builder: (y) =>
    y
      .positional('remote', { type: 'string', describe: 'Remote name (default origin)' })
      .positional('refs', { type: 'string', array: true, describe: 'Branches or tags (default the current branch)' })
      .option('all', { type: 'boolean', describe: 'Every branch and tag' })
      .option('force', {
        alias: 'f',
        type: 'boolean',
        describe: 'Overwrite remote refs that are not ancestors of yours',
      })
      .option('repair', {
        type: 'boolean',
        describe:
          'First check the remote (as fsck --remote) and mend it from this repository: re-send what it lacks or ' +
          'holds damaged, retire damaged packs, rewrite garbled refs',
      })
      .option('jobs', { alias: 'j', type: 'number', describe: 'Transfers at once (default 8 for S3, 2 for a folder)' })
      .option('json', { type: 'boolean' })
      .example('mvm push', 'the current branch to origin')
      .example('mvm push backup --all', 'every branch and tag to the remote named backup')
      .example(
        'mvm push --repair',
        `mend a damaged remote from this repository (exit ${EXIT.corrupt} when something could not be mended)`,
      ),
  run: async (argv) => {
    const { push } = await import('../../ops/push.js');
    const r = await push(openRepo(), {
      remote: argv.remote,
      refs: argv.refs,
      all: argv.all,
      force: argv.force,
      repair: argv.repair,
      jobs: argv.jobs,
      progress: progressBar(!argv.quiet && !argv.json),
    });
    // a repair that left something damaged exits as fsck does
    const code = r.repair?.unrepaired.length ? EXIT.corrupt : EXIT.ok;
    if (argv.json) {
      printJson(r);
      return code;
    }
    if (r.repair) {
      const m = r.repair;
      print(
        `repair: ${m.found} problem(s) found; re-sent ${m.objects} object(s) in ${m.packs} pack(s), ` +
          `${formatBytes(m.bytes)}; retired ${m.retired.length} damaged pack ` +
          `index(es)${m.rewritten.length ? `, rewrote ${m.rewritten.length} damaged pack(s) whole` : ''}; rewrote ` +
          `${m.refs.length} ref(s)`,
      );
      for (const x of m.refs) print(`  rewrote ${x.ref} -> ${x.to.slice(0, 12)}`);
      for (const p of m.unrepaired) print(`  not mended: ${p.kind}: ${p.message}`);
    }
    for (const u of r.updates) {
      const short = (id: string | null) => (id ? id.slice(0, 12) : '(new)');
      print(
        u.from === u.to
          ? `  = ${u.ref} ${short(u.to)} (up to date)`
          : `  ${u.forced ? '+' : ' '} ${u.ref} ${short(u.from)} -> ${short(u.to)}${u.forced ? ' (forced)' : ''}`,
      );
    }
    if (r.signatures) print(`  sent ${r.signatures} signature(s)`);
    if (r.annotations) print(`  sent ${r.annotations} annotation(s)`);
    for (const e of r.envs) print(`  env ${e}: sent (it was only here)`);
    for (const x of r.newNumbers) print(`  numbered ${x.id.slice(0, 12)} as v${x.number}`);
    for (const w of divergedWarning(r.divergedNumbers, r.remote)) print(w);
    print(
      `pushed ${r.objects} object(s) in ${r.packs} pack(s), ${formatBytes(r.bytes)}, ${r.requests} request(s) to ` +
        `${r.remote} (${r.url})`,
    );
    return code;
  },
};
