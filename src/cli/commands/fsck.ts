import { EXIT, MvmError } from '../../errors.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { print, printJson, versionLabel } from '../format/text.js';
import { progressBar } from '../progress.js';

interface Args extends GlobalArgs {
  repair?: boolean;
  remote?: string;
  jobs?: number;
}

/** `mvm fsck`: verify every object and ref; `--repair` mends what can be mended. */
export const fsckCommand: Command<Args> = {
  command: 'fsck',
  describe: 'Verify every object (by hash) and every ref; report damage with the versions and paths it affects',
  builder: (y) =>
    y
      .option('repair', {
        type: 'boolean',
        describe:
          'Rebuild the index, set aside bad log lines and corrupt objects, rebuild tracked.json and number lines; ' +
          'report what cannot be recovered',
      })
      .option('remote', {
        type: 'string',
        describe:
          'Verify this remote instead: pack indexes and sizes, the hash of every object in every pack, refs and ' +
          'what they reach, the number registry (mend with push --repair)',
      })
      .option('jobs', { alias: 'j', type: 'number', describe: 'With --remote: transfers at once' })
      .option('json', { type: 'boolean' })
      .example('mvm fsck', `exit ${EXIT.ok} when the repository is sound, ${EXIT.corrupt} when anything is damaged`)
      .example(
        'mvm fsck --repair',
        'mend what can be mended; what is left is listed (pull or commit again to restore lost objects)',
      )
      .example(
        'mvm fsck --remote origin',
        `exit ${EXIT.corrupt} when the remote is damaged; 'mvm push --repair' mends it from a good repository`,
      ),
  run: async (argv) => {
    const { fsck, fsckRemote } = await import('../../ops/fsck.js');
    if (argv.remote !== undefined) {
      if (argv.repair)
        throw new MvmError('BAD_ARGUMENT', '--repair mends this repository; a remote is mended by push --repair', {
          hint: `mvm push ${argv.remote} --repair`,
        });
      const r = await fsckRemote(openRepo(), {
        remote: argv.remote,
        jobs: argv.jobs,
        progress: progressBar(!argv.quiet && !argv.json),
      });
      const code = r.ok ? EXIT.ok : EXIT.corrupt;
      if (argv.json) {
        printJson(r);
        return code;
      }
      for (const p of r.problems) {
        const where = p.usedBy
          .map((u) => u.ref ?? `${u.version!.slice(0, 12)}${u.path ? `:${u.path}` : ''}`)
          .join(', ');
        print(`${p.kind}: ${p.message}${where ? ` (used by ${where})` : ''}`);
      }
      const verdict = r.ok
        ? 'ok'
        : `${r.problems.length} problem(s); 'mvm push ${r.remote} --repair' from a good repository mends them`;
      const unindexed = r.unindexedPacks ? `; ${r.unindexedPacks} pack(s) no index names (an interrupted push)` : '';
      print(
        `checked ${r.remote} (${r.url}): ${r.packs} pack(s), ${r.objectsChecked} object(s), ` +
          `${r.versions} version(s), ${r.refsChecked} ref(s), ${r.registry} number(s): ${verdict}${unindexed}`,
      );
      return code;
    }
    const r = await fsck(openRepo(), {
      progress: progressBar(!argv.quiet && !argv.json, 'items'),
      repair: argv.repair,
    });
    const code = r.ok ? EXIT.ok : EXIT.corrupt;
    if (argv.json) {
      printJson(r);
      return code;
    }
    for (const line of r.repaired ?? []) print(`repaired: ${line}`);
    for (const p of r.problems) {
      const where =
        p.usedBy
          .slice(0, 5)
          .map((u) => `${versionLabel(u.version, u.number)}${u.path ? `:${u.path}` : ''}`)
          .join(', ') + (p.usedBy.length > 5 ? ` and ${p.usedBy.length - 5} more (--json lists all)` : '');
      print(`${p.kind}: ${p.message}${where ? ` (used by ${where})` : ''}`);
    }
    const notes = [
      r.unreachable ? `${r.unreachable} version(s) not reachable from any ref` : '',
      r.leftoverTemp ? `${r.leftoverTemp} temporary file(s) from an interrupted write` : '',
      r.staleExports.length
        ? `${r.staleExports.length} staging folder(s) from an interrupted export ` +
          `(the next export there removes them): ${r.staleExports.join(', ')}`
        : '',
      r.removedByGc ? `${r.removedByGc} version(s) removed by gc` : '',
      r.onRemote ? `${r.onRemote} object(s) left on the remote (a partial store fetches them when needed)` : '',
    ].filter((n) => n);
    print(
      `checked ${r.objectsChecked} object(s), ${r.versions} version(s), ${r.refsChecked} ref(s): ` +
        (r.ok ? 'ok' : `${r.problems.length} problem(s)`) +
        notes.map((n) => `; ${n}`).join(''),
    );
    return code;
  },
};
