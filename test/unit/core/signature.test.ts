import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/core/canonical.js';
import { decodeSignature, encodeSignature, makeSignature, signedMessage } from '../../../src/core/signature.js';
import { MAX_SIGNATURE_OBJECT } from '../../../src/core/limits.js';

const target = 'ab'.repeat(32);
const armor =
  '-----BEGIN SSH ' +
  'SIGNATURE-----\nU1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg\nxFVfK2rDYbh6eYTTr6Ed8504Q0==\n-----END SSH ' +
  'SIGNATURE-----\n';
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return 'no error';
};

describe('signature objects', () => {
  it('the message signed is exactly "mvm version <id>\\n"', () => {
    expect(signedMessage(target).toString('latin1')).toBe(`mvm version ${target}\n`);
    expect(signedMessage(target)).toHaveLength(77);
  });

  it('round-trips, with armor normalised from CRLF and surrounding blanks', () => {
    const s = makeSignature(target, `\r\n${armor.replace(/\n/g, '\r\n')}  `);
    expect(s.signature).toBe(armor);
    expect(decodeSignature(encodeSignature(s), 'x')).toEqual(s);
  });

  it(
    'refuses every field out of shape: extra or missing keys, wrong type, format, namespace, target, armor, ' +
      'non-canonical bytes, oversize',
    () => {
      const good = { type: 'signature', format: 1, target, namespace: 'mvm-version', signature: armor };
      const enc = (o: unknown) => Buffer.from(canonicalJson(o));
      expect(decodeSignature(enc(good), 'x').target).toBe(target);
      const bad: unknown[] = [
        { ...good, by: 'alice' },
        { ...good, signature: undefined },
        { ...good, type: 'annotation' },
        { ...good, format: 2 },
        { ...good, namespace: 'git' },
        { ...good, target: target.slice(1) },
        { ...good, target: ['x'] },
        { ...good, signature: armor.replace('BEGIN SSH SIGNATURE', 'BEGIN PGP SIGNATURE') },
        { ...good, signature: armor + 'trailing' },
        { ...good, signature: armor.replace('U1NIU0lH', 'U1N$IU0lH') },
        { ...good, signature: `-----BEGIN SSH SIGNATURE-----\n${'QUFB\n'.repeat(3000)}-----END SSH SIGNATURE-----\n` },
        JSON.parse('{"__proto__": {"type": "signature"}}'),
        [good],
        null,
      ];
      for (const o of bad)
        expect(
          code(() => decodeSignature(enc(o), 'x')),
          JSON.stringify(o)?.slice(0, 120),
        ).toBe('OBJECT_CORRUPT');
      expect(code(() => decodeSignature(Buffer.from(JSON.stringify(good, null, 1)), 'x'))).toBe('OBJECT_CORRUPT');
      expect(code(() => decodeSignature(Buffer.alloc(MAX_SIGNATURE_OBJECT + 1, 32), 'x'))).toBe('OBJECT_CORRUPT');
      expect(code(() => decodeSignature(Buffer.from('{not json'), 'x'))).toBe('OBJECT_CORRUPT');
      expect(code(() => makeSignature(target, 'Signing data on standard input'))).toBe('SIGNING_FAILED');
    },
  );
});
