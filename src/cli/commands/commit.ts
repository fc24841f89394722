import { EXIT } from '../../errors.js';
import { openRepo, type Command, type GlobalArgs } from '../context.js';
import { formatBytes, print, printJson, versionLabel } from '../format/text.js';
import { progressBar } from '../progress.js';

interface Args extends GlobalArgs {
  message: string;
  author?: string;
  meta?: string[];
  param?: string[];
  metric?: string[];
  metricsFile?: string[];
  base?: string;
  data?: string[];
  allowEmpty?: boolean;
  date?: string;
  sign?: boolean;
  signKey?: string;
}

/** `mvm commit`: record the tracked files as a new version. */
export const commitCommand: Command<Args> = {
  command: 'commit',
  describe: 'Record the tracked files as a new version',
  builder: (y) =>
    y
      .option('message', { alias: 'm', type: 'string', demandOption: true, describe: 'What changed' })
      .option('author', { type: 'string', describe: 'Author (default: git user.name <user.email>, else the OS user)' })
      .option('meta', { type: 'string', array: true, describe: 'Free metadata key=value (repeatable)' })
      .option('param', { type: 'string', array: true, describe: 'Training parameter key=value (repeatable)' })
      .option('metric', { type: 'string', array: true, describe: 'Metric key=number (repeatable)' })
      .option('metrics-file', {
        type: 'string',
        array: true,
        describe: 'JSON file of metrics; nested keys become eval.f1',
      })
      .option('base', { type: 'string', describe: 'The version this model was fine-tuned from' })
      .option('data', {
        type: 'string',
        array: true,
        describe: 'Dataset: a path (hashed in place) or name=ID (repeatable)',
      })
      .option('allow-empty', { type: 'boolean', describe: 'Make a version even if no file changed' })
      .option('date', { type: 'string', describe: 'Timestamp to record (ISO-8601), default now' })
      .option('sign', {
        alias: 'S',
        type: 'boolean',
        describe: 'Sign the version with your SSH key (default: signing.sign in the user config)',
      })
      .option('sign-key', {
        type: 'string',
        describe: 'SSH key to sign with: a private key, or a .pub whose private half is in ssh-agent',
      })
      .option('json', { type: 'boolean' })
      .example('mvm commit -m "baseline" --meta dataset=imagenet-2024 --metric accuracy=0.91', 'first version')
      .example(
        'mvm commit -m "lr 3e-4" --param lr=3e-4 --metrics-file eval.json --data data/train',
        'with params, metrics and data',
      ),
  run: async (argv) => {
    const { commit } = await import('../../ops/commit.js');
    const r = await commit(openRepo(), {
      message: argv.message,
      author: argv.author,
      meta: argv.meta,
      params: argv.param,
      metrics: argv.metric,
      metricsFiles: argv.metricsFile,
      base: argv.base,
      data: argv.data,
      allowEmpty: argv.allowEmpty,
      time: argv.date,
      sign: argv.sign,
      signKey: argv.signKey,
      progress: progressBar(!argv.quiet && !argv.json),
    });
    // nothing to commit exits 1, as in git, so scripts can tell
    if (argv.json) {
      printJson(r);
      return r.created ? EXIT.ok : EXIT.failure;
    }
    if (!r.created) {
      print(`nothing to commit, workspace matches ${versionLabel(r.id, r.number)}`);
      return EXIT.failure;
    }
    print(`[${r.branch ?? 'detached HEAD'} ${versionLabel(r.id, r.number)}] ${argv.message.trim().split('\n')[0]}`);
    if (r.signature) print(` signed, signature ${r.signature.slice(0, 12)}`);
    print(
      ` ${r.changes.length} file(s) changed, ${r.files} tracked, ${formatBytes(r.logicalBytes)}; ${r.newChunks} new ` +
        `chunk(s), ${formatBytes(r.newBytes)} new data stored as ${formatBytes(r.storedBytes)}`,
    );
  },
};
