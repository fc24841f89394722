import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { mvm, randomBytes, testdir } from '../../helpers/cli.js';
import { json, ok, write } from '../../helpers/assertions.js';

// Staging folders (.mvm-tmp-*) that an export killed part-way leaves in a serving folder:
// fsck reports them, the next export removes them, and never one a live export is building.
describe('interrupted exports into a serving folder', () => {
  it(
    'a deploy --export killed mid-export leaves a staging folder that fsck reports and the next deploy removes; a ' +
      "live export's folder is left alone",
    () => {
      const t = testdir();
      try {
        const w = t.path('w');
        mkdirSync(w);
        const serve = t.path('serve');
        const run = (args: string[], env: Record<string, string> = {}) => mvm(args, { cwd: w, env });
        write(join(w, 'model/w.bin'), randomBytes(300_000, 1));
        ok(run(['init']));
        ok(run(['add', 'model']));
        ok(run(['commit', '-m', 'v1']));
        write(join(w, 'model/w.bin'), randomBytes(300_000, 2));
        ok(run(['commit', '-m', 'v2']));
        ok(run(['env', 'production', '--export', serve, '--layout', 'tf-serving', '--name', 'clf']));
        ok(run(['deploy', 'v1', '--env', 'production']));
        const clf = join(serve, 'clf');
        const staging = () =>
          readdirSync(clf)
            .filter((n) => n.startsWith('.mvm-tmp-'))
            .sort();
        expect(staging()).toEqual([]);
        // kill the deploy of v2 at each fault point in turn until one dies inside the export
        let killedAt = 0;
        for (let n = 1; n <= 20 && !staging().length; n++) {
          const r = run(['deploy', 'v2', '--env', 'production'], { MVM_FAULT: `kill:${n}` });
          expect(r.exitCode, r.stderr).not.toBe(0);
          killedAt = n;
        }
        const left = staging();
        expect(left, `killed at ${killedAt}`).toHaveLength(1);
        expect(existsSync(join(clf, '2'))).toBe(false);
        // a folder a live export builds (this very process stands for it), one from an older mvm
        // that is two days old, and one that is recent and cannot be asked
        const tag = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
        const live = `.mvm-tmp-2-${tag}-${process.pid}-0badf00d`;
        mkdirSync(join(clf, live));
        writeFileSync(join(clf, live, 'part'), 'being written');
        const old = '.mvm-tmp-2-deadbeef';
        mkdirSync(join(clf, old));
        const twoDays = Date.now() / 1000 - 2 * 86_400;
        utimesSync(join(clf, old), twoDays, twoDays);
        const recent = '.mvm-tmp-2-cafebabe';
        mkdirSync(join(clf, recent));
        const f = json(run(['fsck', '--json']));
        expect(f.ok).toBe(true);
        expect(f.staleExports).toEqual([join(clf, left[0]!), join(clf, old)].sort());
        expect(run(['fsck']).stdout).toContain('staging folder(s) from an interrupted export');
        // the next deploy removes the stale ones and completes
        const d = json(run(['deploy', 'v2', '--env', 'production', '--json']));
        expect(d.export.written).toBe(true);
        expect(staging()).toEqual([live, recent].sort());
        expect(readFileSync(join(clf, live, 'part'), 'utf8')).toBe('being written');
        expect(readFileSync(join(clf, '2', 'model/w.bin')).equals(randomBytes(300_000, 2))).toBe(true);
        expect(json(run(['fsck', '--json'])).staleExports).toEqual([]);
      } finally {
        t.cleanup();
      }
    },
  );
});
