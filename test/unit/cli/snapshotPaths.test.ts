import { describe, expect, it } from 'vitest';
import { blobPath, bundleUrlFor } from '../../../src/cli/snapshotPaths.js';

describe('snapshotPaths', () => {
  it('finds the blob in either spelling of --snapshot-blob, and nothing without one', () => {
    expect(blobPath(['--snapshot-blob', '/opt/mvm/dist/snapshot/mvm.blob'])).toBe('/opt/mvm/dist/snapshot/mvm.blob');
    expect(blobPath(['--max-old-space-size=100', '--snapshot-blob=rel/mvm.blob'])).toBe('rel/mvm.blob');
    expect(blobPath(['--snapshot-blob'])).toBeNull();
    expect(blobPath(['--inspect'])).toBeNull();
  });

  it('puts the bundle beside the blob: dist/snapshot/mvm.blob -> dist/bundle/mvm.js, as a file URL', () => {
    expect(bundleUrlFor('/opt/my mvm/dist/snapshot/mvm.blob')).toBe('file:///opt/my%20mvm/dist/bundle/mvm.js');
    expect(bundleUrlFor('bin/../dist/snapshot/mvm.blob')).toBe(`file://${process.cwd()}/dist/bundle/mvm.js`);
  });
});
