import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { versionProblems } from '../../../src/core/versionCheck.js';
import { decodeAnnotation, decodeFileObject, decodeVersion, encodeJsonObject } from '../../../src/core/objects.js';
import { summarize } from '../../../src/repo/history/summary.js';
import { compareWithVersion, visibleFiles } from '../../../src/repo/workspace/workspace.js';
import { overlayMetrics } from '../../../src/repo/history/annotations.js';
import { diffTensors, diffVersions } from '../../../src/core/diff.js';
import { MvmError } from '../../../src/errors.js';
import { decodeVerified } from '../../../src/storage/objectFile.js';
import { encodeDelta, encodeObject } from '../../../src/storage/codec.js';
import { blake3Hex } from '../../../src/storage/hash.js';
import { count, params, reportCounts } from './harness.js';

afterAll(reportCounts);

describe('fuzz: text parsers give a result or a clear error', () => {
  it(
    'manifests: a version versionProblems calls safe has only relative, normalised, non-aliasing paths and ' +
      'permission bits',
    () => {
      const seg = fc.constantFrom(
        'a',
        'b',
        'model.bin',
        '..',
        '.',
        '',
        '.git',
        '.GIT',
        '.mvm',
        'x\u0000y',
        'é',
        'C:',
        'a\\b',
        '__proto__',
        ' ',
      );
      const path = fc
        .tuple(fc.boolean(), fc.array(seg, { minLength: 1, maxLength: 4 }))
        .map(([abs, parts]) => (abs ? '/' : '') + parts.join('/'));
      const entry = fc.record({
        file: fc.constantFrom('ab'.repeat(32), 'zz', ''),
        mode: fc.constantFrom(0o644, 0o755, 0o4755, 0o2644, 0o1777, -1, 1.5),
        size: fc.constantFrom(0, 10, -1),
      });
      fc.assert(
        fc.property(fc.dictionary(path, entry, { maxKeys: 5 }), (files) => {
          count('manifest');
          // Windows refuses a drive or a backslash besides; elsewhere they are names like any other
          const win = versionProblems({ files }, 'win32').length === 0;
          if (win) for (const p of Object.keys(files)) expect(/^[A-Za-z]:/.test(p) || p.includes('\\')).toBe(false);
          const problems = versionProblems({ files }, 'any');
          if (problems.length) return;
          expect(versionProblems({ files }, 'linux')).toEqual([]);
          const keys = Object.keys(files);
          for (const p of keys) {
            expect(p.startsWith('/') || p.includes('\0')).toBe(false);
            for (const part of p.split('/')) {
              expect(['', '.', '..']).not.toContain(part);
              expect(['.git', '.mvm']).not.toContain(part.toLowerCase());
            }
            expect(files[p]!.mode & ~0o777).toBe(0);
            for (const q of keys) expect(q.startsWith(`${p}/`), `${p} is a file and a folder`).toBe(false);
          }
        }),
        params,
      );
    },
  );

  it('version objects: arbitrary JSON decodes to a version or fails with an MvmError', () => {
    const json = fc.oneof(
      fc.json(),
      fc
        .record({
          type: fc.constant('version'),
          format: fc.constantFrom(1, 2),
          files: fc.jsonValue(),
          parents: fc.jsonValue(),
          deps: fc.jsonValue(),
        })
        .map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(json, (text) => {
        count('version');
        try {
          decodeVersion(Buffer.from(text), 'ab'.repeat(32));
        } catch (e) {
          expect(e).toBeInstanceOf(MvmError);
        }
      }),
      params,
    );
  });

  it('stored objects, deltas included: damaged bytes decode to the right content or fail with OBJECT_CORRUPT', () => {
    const base = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) & 0xff));
    const content = Buffer.from(base.map((x, i) => (i % 7 === 0 ? x ^ 1 : x)));
    const baseId = blake3Hex(base);
    const id = blake3Hex(content);
    const seeds = [
      encodeDelta(content, base, baseId, 1, 'bf16')!.bytes,
      encodeObject(content, { level: 3, group: 'f32' }).bytes,
      encodeObject(content, { level: 3 }).bytes,
    ];
    const edit = fc.record({
      seed: fc.integer({ min: 0, max: seeds.length - 1 }),
      writes: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
    });
    fc.assert(
      fc.property(edit, (m) => {
        count('object');
        let b = Buffer.from(seeds[m.seed]!);
        for (const w of m.writes) b[w.at % b.length] = w.byte;
        if (m.cut !== undefined) b = b.subarray(0, m.cut % (b.length + 1));
        try {
          // the loader serves the one base there is; any other id is a missing object
          expect(
            decodeVerified(b, id, {
              loadBase: (want) =>
                want === baseId
                  ? base
                  : (() => {
                      throw new MvmError('OBJECT_MISSING', want);
                    })(),
            }).equals(content),
          ).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(MvmError);
          expect(['OBJECT_CORRUPT', 'OBJECT_MISSING']).toContain((e as MvmError).code);
        }
      }),
      params,
    );
  });

  it(
    'manifests (versions, file objects, annotations): mutated JSON decodes to a well-formed object every reader ' +
      'can use, or fails with OBJECT_CORRUPT',
    () => {
      const A = 'a'.repeat(64);
      const B = 'b'.repeat(64);
      const seeds: Record<string, unknown>[] = [
        {
          type: 'version',
          format: 1,
          parents: [A],
          author: 'Ada',
          time: '2026-01-01T00:00:00.000Z',
          message: 'm',
          files: { 'm/w.bin': { file: B, mode: 420, size: 10 }, __proto__x: { file: A, mode: 493, size: 0 } },
          meta: { k: 'v' },
          params: { lr: 0.1 },
          metrics: { acc: 0.9, ok: true },
          deps: { base: A, data: [{ id: 'x', name: 'n', path: 'p' }] },
          git: { commit: 'c', dirty: false, branch: 'main' },
        },
        {
          type: 'file',
          format: 1,
          size: 30,
          chunkSize: 16,
          chunks: [
            [A, 16],
            [B, 14],
          ],
          layout: {
            format: 'safetensors',
            tensors: [
              { name: 't', dtype: 'F32', shape: [2, 2], start: 8, end: 24, chunkStart: 0, chunkEnd: 2 },
              { name: 'u', dtype: 'BF16', shape: [], start: 24, end: 24, chunkStart: 1, chunkEnd: 1 },
            ],
            unlisted: 2,
          },
        },
        { type: 'annotation', format: 1, target: A, author: 'a', time: 't', metrics: { f1: 0.5 }, note: 'n' },
      ];
      // every place in a JSON tree, as a list of keys
      const places = (v: unknown, at: (string | number)[] = []): (string | number)[][] => {
        const out = [at];
        if (Array.isArray(v)) v.forEach((x, i) => out.push(...places(x, [...at, i])));
        else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...places(x, [...at, k]));
        return out;
      };
      const hostileKey = fc.constantFrom(
        '__proto__',
        'constructor',
        'toString',
        'data',
        'base',
        'files',
        'layout',
        'tensors',
        'x',
      );
      const edit = fc.record({
        seed: fc.nat(seeds.length - 1),
        ops: fc.array(
          fc.record({
            at: fc.nat(),
            kind: fc.constantFrom('set', 'delete', 'add', 'add'),
            key: hostileKey,
            value: fc.oneof(
              fc.jsonValue({ maxDepth: 2 }),
              fc.constantFrom('x', -1, 1e308, 2 ** 53, 0.5, null, [], {}, [A, 1], A),
            ),
          }),
          { minLength: 0, maxLength: 3 },
        ),
        text: fc.option(
          fc.record({ at: fc.nat(), with: fc.constantFrom('', '1e999', '-', '"', '{', ']', 'null', '"__proto__":') }),
          { nil: undefined, freq: 4 },
        ),
      });
      fc.assert(
        fc.property(edit, (m) => {
          count('manifest json');
          const o = structuredClone(seeds[m.seed]!);
          for (const op of m.ops) {
            const all = places(o).filter((p) => p.length > 0);
            const path = all[op.at % all.length]!;
            const parent = path.slice(0, -1).reduce<any>((x, k) => x[k], o);
            const last = path[path.length - 1]!;
            if (op.kind === 'delete') Array.isArray(parent) ? parent.splice(Number(last), 1) : delete parent[last];
            else if (op.kind === 'set') parent[last] = op.value;
            else if (parent && typeof parent === 'object' && !Array.isArray(parent))
              Object.defineProperty(parent, op.key, {
                value: op.value,
                enumerable: true,
                writable: true,
                configurable: true,
              });
          }
          let text = JSON.stringify(o);
          if (m.text) {
            const at = m.text.at % (text.length + 1);
            text = text.slice(0, at) + m.text.with + text.slice(at + 1);
          }
          const bytes = Buffer.from(text);
          const id = 'ab'.repeat(32);
          const tryDecode = <T>(fn: () => T): T | null => {
            try {
              return fn();
            } catch (e) {
              expect(e).toBeInstanceOf(MvmError);
              expect((e as MvmError).code).toBe('OBJECT_CORRUPT');
              return null;
            }
          };
          const v = tryDecode(() => decodeVersion(bytes, id));
          if (v) {
            count('manifest json accepted');
            // what log, status, fsck, fetch and the index do with a version never throws a TypeError
            summarize(id, 1, v);
            versionProblems(v, 'any');
            compareWithVersion(new Map(), v);
            visibleFiles(v.files, ['m']);
            overlayMetrics(v, [{ metrics: v.metrics }]);
            const empty = { type: 'file', format: 1, size: 0, chunkSize: 1, chunks: [] } as never;
            expect(diffVersions(null, v, () => empty).files).toHaveLength(Object.keys(v.files).length);
            expect(Object.getPrototypeOf(v.files)).toBeNull();
            // written back (as rebase does) it reads the same (-0 is written as 0, as canonical JSON does)
            expect(encodeJsonObject(decodeVersion(encodeJsonObject(v), id)).equals(encodeJsonObject(v))).toBe(true);
            for (const e of Object.values(v.files)) expect(Number.isSafeInteger(e.size) && e.size >= 0).toBe(true);
          }
          const f = tryDecode(() => decodeFileObject(bytes, id));
          if (f) {
            count('manifest json accepted');
            expect(f.chunks.reduce((n, c) => n + c.size, 0)).toBe(f.size);
            for (const t of f.layout?.tensors ?? []) {
              expect(
                t.start <= t.end && t.end <= f.size && t.chunkStart <= t.chunkEnd && t.chunkEnd <= f.chunks.length,
              ).toBe(true);
            }
            diffTensors(f, f);
            expect(encodeJsonObject(decodeFileObject(encodeJsonObject(f), id)).equals(encodeJsonObject(f))).toBe(true);
          }
          const a = tryDecode(() => decodeAnnotation(bytes, id));
          if (a) {
            count('manifest json accepted');
            expect(Object.getPrototypeOf(a.metrics)).toBeNull();
            overlayMetrics({ metrics: {} } as never, [a]);
          }
        }),
        params,
      );
    },
  );
});
