/** Checks that every remote backend must pass, whatever holds its files. */
import { expect } from 'vitest';
import type { RemoteBackend } from '../../src/storage/remote/backend.js';

/** size reports a file's bytes (null when absent); remove deletes it, and removing what is gone is no error. */
export async function expectSizeAndRemove(b: RemoteBackend): Promise<void> {
  await b.write('packs/a.pack', Buffer.from('0123456789'));
  expect(await b.size('packs/a.pack')).toBe(10);
  expect(await b.size('packs/none.pack')).toBeNull();
  await b.remove('packs/a.pack');
  expect(await b.size('packs/a.pack')).toBeNull();
  await b.remove('packs/a.pack');
  expect(await b.list('packs/')).toEqual([]);
}
