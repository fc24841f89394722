import { EXIT } from '../../errors.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { print, printJson, versionLabel } from '../format/text.js';
import { progressBar } from '../progress.js';

interface Args extends GlobalArgs {
  repair?: boolean;
}

/** `mvm fsck`: verify every object and ref; `--repair` mends what can be mended. */
export const fsckCommand: Command<Args> = {
  command: 'fsck',
  describe: 'Verify every object (by hash) and every ref; report damage with the versions and paths it affects',
  builder: (y) =>
    y
      .option('repair', { type: 'boolean', describe: 'Rebuild the index, set aside bad log lines and corrupt objects, rebuild tracked.json and number lines; report what cannot be recovered' })
      .option('json', { type: 'boolean' })
      .example('mvm fsck', `exit ${EXIT.ok} when the repository is sound, ${EXIT.corrupt} when anything is damaged`)
      .example('mvm fsck --repair', 'mend what can be mended; what is left is listed (pull or commit again to restore lost objects)'),
  run: async (argv) => {
    const { fsck } = await import('../../ops/fsck.js');
    const r = await fsck(openRepo(), { progress: progressBar(!argv.quiet && !argv.json, 'items'), repair: argv.repair });
    const code = r.ok ? EXIT.ok : EXIT.corrupt;
    if (argv.json) {
      printJson(r);
      return code;
    }
    for (const line of r.repaired ?? []) print(`repaired: ${line}`);
    for (const p of r.problems) {
      const where = p.usedBy.slice(0, 5).map((u) => `${versionLabel(u.version, u.number)}${u.path ? `:${u.path}` : ''}`).join(', ') + (p.usedBy.length > 5 ? ` and ${p.usedBy.length - 5} more (--json lists all)` : '');
      print(`${p.kind}: ${p.message}${where ? ` (used by ${where})` : ''}`);
    }
    print(`checked ${r.objectsChecked} object(s), ${r.versions} version(s), ${r.refsChecked} ref(s): ${r.ok ? 'ok' : `${r.problems.length} problem(s)`}${r.unreachable ? `; ${r.unreachable} version(s) not reachable from any ref` : ''}${r.leftoverTemp ? `; ${r.leftoverTemp} temporary file(s) from an interrupted write` : ''}${r.staleExports.length ? `; ${r.staleExports.length} staging folder(s) from an interrupted export (the next export there removes them): ${r.staleExports.join(', ')}` : ''}${r.removedByGc ? `; ${r.removedByGc} version(s) removed by gc` : ''}${r.onRemote ? `; ${r.onRemote} chunk(s) left on the remote (a partial store fetches them when needed)` : ''}`);
    return code;
  },
};
