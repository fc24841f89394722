import { MvmError, isMvmError } from '../../errors.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { print, printJson } from '../format/text.js';

interface Args extends GlobalArgs {
  action?: string;
  name?: string;
  url?: string;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
  shared?: boolean;
  allowHttp?: boolean;
}

/** `mvm remote`: list, add and remove remotes. */
export const remoteCommand: Command<Args> = {
  command: 'remote [action] [name] [url]',
  describe:
    'List remotes, add / remove one (a folder, file:///path or s3://bucket/prefix), or trust one from mvm-remotes.json',
  builder: (y) =>
    y
      .positional('action', {
        type: 'string',
        choices: ['list', 'add', 'remove', 'rm', 'trust'],
        describe: 'list (default), add, remove, or trust (a remote from mvm-remotes.json, in this clone)',
      })
      .positional('name', { type: 'string', describe: 'Remote name, e.g. origin' })
      .positional('url', {
        type: 'string',
        describe: 'Where it is: /mnt/share/mvm, file:///mnt/share/mvm or s3://bucket/prefix',
      })
      .option('endpoint', {
        type: 'string',
        describe: 'S3-compatible endpoint URL (MinIO, Ceph, R2...); AWS_ENDPOINT_URL works too',
      })
      .option('region', { type: 'string', describe: 'S3 region (default AWS_REGION or us-east-1)' })
      .option('path-style', { type: 'boolean', describe: 'Address the bucket in the path (default with --endpoint)' })
      .option('shared', {
        type: 'boolean',
        describe: 'Write it to mvm-remotes.json at the workspace root, for git to share',
      })
      .option('allow-http', {
        type: 'boolean',
        describe: 'Consent to a plain http:// endpoint that is not this machine (requests travel in clear text)',
      })
      .option('json', { type: 'boolean' })
      .example('mvm remote add origin s3://models-bucket/team-a --shared', 'a remote every clone of the project knows')
      .example('mvm remote trust origin', 'after git clone: use the remote mvm-remotes.json names (shown first)')
      .example('mvm remote add backup /mnt/share/mvm', 'a folder on a shared mount')
      .example('mvm remote', 'list them'),
  run: async (argv) => {
    const ops = await import('../../ops/remote.js');
    const action = argv.action ?? 'list';
    if (action === 'trust') {
      let target: Parameters<typeof ops.trust>[0];
      try {
        target = openRepo();
      } catch (e) {
        // a fresh git clone: no store yet, but the project names its remotes in mvm-remotes.json
        const { findSharedWorkspace } = await import('../../ops/pull.js');
        const root = isMvmError(e, 'NOT_A_REPOSITORY') ? findSharedWorkspace(process.cwd()) : null;
        if (!root) throw e;
        target = root;
      }
      const r = await ops.trust(target, argv.name, { allowHttp: argv.allowHttp });
      if (argv.json) return printJson(r);
      return print(
        `Trusted remote ${r.remote.name} from mvm-remotes.json in this clone: ` +
          `${r.settings}${r.allowHttp ? ' (plain HTTP allowed)' : ''}`,
      );
    }
    const repo = openRepo();
    if (action === 'list') {
      const list = ops.remotes(repo);
      if (argv.json) return printJson(list);
      for (const r of list)
        print(
          `${r.name}\t${r.url}${r.endpoint ? ` (endpoint ${r.endpoint})` : ''}` +
            `${r.shared ? ` [shared${r.trust === 'trusted' ? '' : `, ${r.trust}: mvm remote trust ${r.name}`}]` : ''}`,
        );
      return;
    }
    if (!argv.name)
      throw new MvmError('BAD_ARGUMENT', `mvm remote ${action} needs a name`, {
        hint: 'mvm remote add origin s3://bucket/prefix',
      });
    if (action === 'add') {
      if (!argv.url)
        throw new MvmError('BAD_ARGUMENT', 'mvm remote add needs a URL', {
          hint: 'mvm remote add origin s3://bucket/prefix',
        });
      const r = await ops.addRemote(repo, argv.name, argv.url, {
        endpoint: argv.endpoint,
        region: argv.region,
        pathStyle: argv.pathStyle,
        shared: argv.shared,
        allowHttp: argv.allowHttp,
      });
      if (argv.json) return printJson(r);
      return print(`Added remote ${r.name} (${r.url})${r.shared ? ' to mvm-remotes.json' : ''}`);
    }
    const r = await ops.removeRemote(repo, argv.name);
    if (argv.json) return printJson(r);
    print(`Removed remote ${r.name}`);
  },
};
