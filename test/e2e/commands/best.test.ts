/**
 * `mvm best`, end to end through the real CLI: the version with the best
 * value of a metric (direction inferred or declared, candidates narrowed by
 * --where), and `mvm deploy $(mvm best ...)`. Runs against the registry
 * repository of test/helpers/registryRepo.ts.
 */
import { describe, expect, it } from 'vitest';
import { ok, json, expectError } from '../../helpers/assertions.js';
import { useRegistryRepo } from '../../helpers/registryRepo.js';

const { fx, run, copy } = useRegistryRepo();

describe.concurrent('best', () => {
  /** `mvm best ARGS --number`, trimmed. */
  const bestN = async (args: string[]) => ok(await run(['best', ...args, '--number'])).stdout.trim();

  it('prints the id of the highest accuracy; --number prints vN; --json has the details', async () => {
    const [id, n, j] = await Promise.all([
      run(['best', '--metric', 'accuracy']),
      run(['best', '--metric', 'accuracy', '--number']),
      run(['best', '--metric', 'accuracy', '--json']),
    ]);
    expect(ok(id).stdout).toBe(`${fx.ids[3]}\n`);
    expect(ok(n).stdout).toBe('v3\n');
    // v1..v4 are on main, where HEAD is; v5 and v6 are on exp
    expect(json(j)).toEqual({ id: fx.ids[3], number: 3, value: 0.91, direction: 'higher', candidates: 4 });
  });

  it(
    'searches the current branch by default, every branch with --all, and another branch once it is checked ' + 'out',
    async () => {
      const [main, all, mainLatency, allLatency] = await Promise.all([
        run(['best', '--metric', 'latency_ms', '--json']),
        run(['best', '--metric', 'latency_ms', '--all', '--json']),
        bestN(['--metric', 'latency_ms']),
        bestN(['--metric', 'latency_ms', '--all']),
      ]);
      expect(json(main).candidates).toBeLessThan(json(all).candidates);
      // the fastest version is an unreviewed experiment on exp: --all finds it, main's best does not
      expect(allLatency).toBe('v6');
      expect(mainLatency).not.toBe('v6');
      expect(['v1', 'v2', 'v3', 'v4']).toContain(mainLatency);
      const r = copy();
      ok(await r.run(['checkout', 'exp']));
      expect(ok(await r.run(['best', '--metric', 'latency_ms', '--number'])).stdout.trim()).toBe('v6');
      const none = expectError(
        await r.run([
          'best',
          '--metric',
          'loss',
          '--where',
          'meta.dataset = "imagenet-2024" and version > 4',
          '--json',
        ]),
        'NO_VERSIONS',
        4,
      );
      expect(none.message).toContain('current branch');
    },
  );

  it('infers lower-is-better for loss and latency; the flags override', async () => {
    const cases: [string[], string][] = [
      [['--metric', 'loss'], 'v4'],
      [['--metric', 'latency_ms'], 'v6'],
      [['--metric', 'loss', '--higher-is-better'], 'v5'],
      [['--metric', 'accuracy', '--lower-is-better'], 'v6'],
      [['--metric', 'custom'], 'v5'], // a name with no known direction: higher
      [['--metric', 'custom', '--lower-is-better'], 'v3'],
      [['--metric', 'eval.f1'], 'v6'],
    ];
    const got = await Promise.all(cases.map(([args]) => bestN([...args, '--all'])));
    cases.forEach(([args, want], i) => expect(got[i], `mvm best ${args.join(' ')}`).toBe(want));
    expect(json(await run(['best', '--metric', 'loss', '--all', '--json']))).toMatchObject({
      number: 4,
      value: 0.45,
      direction: 'lower',
      candidates: 5,
    });
  });

  it('--where restricts the candidates', async () => {
    const [a, b, c] = await Promise.all([
      bestN(['--metric', 'accuracy', '--where', 'meta.dataset = "imagenet-2024"']),
      run(['best', '--metric', 'accuracy', '--where', 'meta.dataset = "imagenet-2024"', '--json']),
      bestN(['--metric', 'loss', '--where', 'author ~ "Bob" or author ~ "Carol"']),
    ]);
    expect(a).toBe('v2');
    expect(json(b).candidates).toBe(3);
    expect(c).toBe('v3');
  });

  it('a metric no version has (or none matching) is NO_VERSIONS, exit 4', async () => {
    const [a, b, text] = await Promise.all([
      run(['best', '--metric', 'bleu', '--json']),
      run(['best', '--metric', 'accuracy', '--where', 'meta.dataset = "mnist"', '--json']),
      run(['best', '--metric', 'bleu']),
    ]);
    expect(expectError(a, 'NO_VERSIONS', 4).data.metric).toBe('bleu');
    expectError(b, 'NO_VERSIONS', 4);
    expect(text.exitCode).toBe(4);
    expect(text.stdout).toBe('');
  });

  it('mvm deploy $(mvm best --metric accuracy) deploys the winner', async () => {
    const r = copy();
    const id = ok(await r.run(['best', '--metric', 'accuracy'])).stdout.trim();
    const d = json(await r.run(['deploy', id, '--json']));
    expect(d).toMatchObject({ to: fx.ids[3], toNumber: 3, action: 'deploy', changed: true, from: null });
    expect(json(await r.run(['show', 'deployed', '--json'])).id).toBe(fx.ids[3]);
    // the --number form works as a revision too
    const n = ok(await r.run(['best', '--metric', 'loss', '--number'])).stdout.trim();
    json(await r.run(['deploy', n, '--json']));
    expect(json(await r.run(['show', 'deployed', '--json'])).id).toBe(fx.ids[4]);
  });
});
