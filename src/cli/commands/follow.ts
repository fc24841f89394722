import type { FollowEvent, FollowStep } from '../../ops/follow.js';
import type { ServingLayout } from '../../repo/deploy/index.js';
import type { ErrorCode } from '../../errors.js';
import { remoteOptions, type Command, type GlobalArgs } from '../context.js';
import { formatBytes, formatDate, print, printJson, versionLabel } from '../format/text.js';

interface Args extends GlobalArgs {
  url: string;
  env: string;
  export: string;
  layout?: string;
  name?: string;
  keep?: number;
  path?: string;
  interval?: number;
  once?: boolean;
  requireSigned?: boolean;
  allowedSigners?: string;
  servingConfig?: boolean;
  state?: string;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
  allowHttp?: boolean;
  jobs?: number;
}

/** The one line a change of the served version gets. */
export function describeStep(s: FollowStep): string {
  const at = new Date().toISOString();
  const label = s.id ? versionLabel(s.id, s.number) : '';
  const by = s.move ? ` (${s.move.action} by ${s.move.who ?? 'someone'} at ${formatDate(s.move.time)})` : '';
  switch (s.outcome) {
    case 'exported':
      return (
        `${at} ${s.env}: serving ${label} from ${s.path}${by}` +
        `${s.bytes ? `, ${formatBytes(s.bytes)} fetched` : ''}` +
        `${s.removed.length ? `; removed version folders ${s.removed.join(', ')}` : ''}` +
        `${s.config ? `; wrote ${s.config}` : ''}`
      );
    case 'unchanged':
      return `${at} ${s.env}: still serving ${label} from ${s.path}`;
    case 'refused':
      return `${at} ${s.env}: refused ${label}${by}: ${s.refused?.message}; the serving folder is left as it was`;
    case 'nothing-deployed':
      return `${at} ${s.env}: nothing is deployed yet`;
    default:
      return `${at} ${s.env}: the remote has no environment '${s.env}' (yet)`;
  }
}

/** `mvm follow`: keep a serving folder on this host in step with an env of a remote. */
export const followCommand: Command<Args> = {
  command: 'follow <url>',
  describe: 'On a serving host: keep a serving folder in step with an environment of a remote (no workspace needed)',
  builder: (y) =>
    remoteOptions(y)
      .positional('url', { type: 'string', demandOption: true, describe: 's3://bucket/prefix or a folder' })
      .option('env', { type: 'string', demandOption: true, describe: 'The environment to follow' })
      .option('export', { type: 'string', demandOption: true, describe: 'The serving folder (model repository)' })
      .option('layout', { type: 'string', choices: ['tf-serving', 'triton'], describe: "Default: the env's" })
      .option('name', { type: 'string', describe: "Model name in the serving folder (default: the env's)" })
      .option('keep', { type: 'number', describe: 'Numbered folders to keep' })
      .option('path', { type: 'string', describe: 'Serve only the files under this path of the version' })
      .option('interval', { type: 'number', default: 30, describe: 'Seconds between looks at the remote' })
      .option('once', { type: 'boolean', describe: 'Look once, bring the folder in step, and exit (for cron)' })
      .option('require-signed', {
        type: 'boolean',
        describe: 'Serve only versions an allowed signer signed (checked here, against --allowed-signers)',
      })
      .option('allowed-signers', { type: 'string', describe: "This host's allowed-signers file (git's format)" })
      .option('serving-config', {
        type: 'boolean',
        describe: "Also write Triton's version_policy (config.pbtxt) or TF Serving's models.config",
      })
      .option('state', {
        type: 'string',
        describe: "The follower's own store (default: under $XDG_CACHE_HOME/mvm/follow/)",
      })
      .option('json', { type: 'boolean', describe: 'One JSON object per line, per change' })
      .example(
        'mvm follow s3://models/team --env production --export /models --layout tf-serving --name clf',
        'serve what production points at, looking every 30 s',
      )
      .example(
        'mvm follow s3://models/team --env production --export /models --once --require-signed ' +
          '--allowed-signers /etc/mvm/signers',
        'from cron: one look, only signed versions',
      ),
  run: async (argv) => {
    const { follow, defaultState } = await import('../../ops/follow.js');
    const { MvmError } = await import('../../errors.js');
    if (argv.requireSigned && !argv.allowedSigners)
      throw new MvmError('BAD_ARGUMENT', '--require-signed needs --allowed-signers FILE', {
        hint: "a file of this host in git's allowed-signers format; the remote's is never trusted for this",
      });
    const opts = {
      url: argv.url,
      env: argv.env,
      dir: argv.export,
      layout: argv.layout as ServingLayout | undefined,
      name: argv.name,
      keep: argv.keep,
      path: argv.path,
      interval: argv.interval,
      once: argv.once,
      requireSigned: argv.requireSigned,
      allowedSigners: argv.allowedSigners,
      servingConfig: argv.servingConfig,
      endpoint: argv.endpoint,
      region: argv.region,
      pathStyle: argv.pathStyle,
      allowHttp: argv.allowHttp,
      jobs: argv.jobs,
      state: '',
    };
    opts.state = argv.state ?? defaultState(opts);
    const show = (e: FollowEvent) => {
      // one JSON object per line while following, so a log shipper reads each change as it comes
      if (argv.json && !argv.once)
        return print(
          JSON.stringify(
            e.kind === 'step'
              ? e.step
              : { error: { code: e.error.code, message: e.error.message }, retryIn: e.retryIn },
          ),
        );
      if (argv.json) return printJson(e.kind === 'step' ? e.step : e.error);
      if (e.kind === 'step') return print(describeStep(e.step));
      print(`${new Date().toISOString()} ${argv.env}: ${e.error.message}; trying again in ${e.retryIn} s`);
    };
    const stop = new AbortController();
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());
    const step = await follow(opts, show, stop.signal);
    if (!step) return;
    if (step.outcome === 'refused') {
      throw new MvmError(step.refused!.code as ErrorCode, step.refused!.message, {
        env: step.env,
        id: step.id,
        hint: 'the serving folder is left as it was',
      });
    }
    show({ kind: 'step', step });
  },
};
