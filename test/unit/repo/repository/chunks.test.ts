import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRepository, partialRemote, Repository } from '../../../../src/repo/repository/index.js';
import { openRepository } from '../../../../src/repo/transfer/index.js';

// The repository wing's chunk availability, and the partial store's that the transfer wing installs.
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mvm-chunks-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('repo.chunks', () => {
  it('a full store holds every chunk: ensure fetches nothing, even for a chunk that is not here', async () => {
    createRepository({ dir });
    const repo = openRepository(dir);
    expect(repo.chunks.remote).toBeNull();
    const absent = 'a'.repeat(64);
    expect(await repo.chunks.ensure([absent])).toEqual({ objects: 0, bytes: 0, requests: 0 });
    const { value, fetched } = await repo.chunks.tally(async () => 7);
    expect(value).toBe(7);
    expect(fetched.objects).toBe(0);
  });

  it('openRepository installs the fetching kind in a partial store; Repository.open does not', () => {
    createRepository({ dir, partial: 'origin' });
    expect(partialRemote(Repository.open(dir))).toBe('origin');
    expect(Repository.open(dir).chunks.remote).toBeNull();
    expect(openRepository(dir).chunks.remote).toBe('origin');
  });

  it('a partial store that holds what a command reads asks no remote (none is configured here)', async () => {
    createRepository({ dir, partial: 'origin' });
    const repo = openRepository(dir);
    const id = repo.objects.put(Buffer.from('a chunk that is here'));
    const { value, fetched } = await repo.chunks.tally(() => repo.chunks.ensure([id]));
    expect(value.objects).toBe(0);
    expect(fetched.objects).toBe(0);
  });

  it('a partial store that lacks a chunk goes to its remote: with none configured, UNKNOWN_REMOTE', async () => {
    createRepository({ dir, partial: 'origin' });
    const repo = openRepository(dir);
    await expect(repo.chunks.ensure(['b'.repeat(64)])).rejects.toMatchObject({ code: 'UNKNOWN_REMOTE' });
  });

  it('a store made full again stops fetching', async () => {
    createRepository({ dir, partial: 'origin' });
    const repo = openRepository(dir);
    repo.setPartial(null);
    expect(repo.chunks.remote).toBeNull();
    expect(Repository.open(dir).config.partial).toBeUndefined();
    expect((await repo.chunks.ensure(['b'.repeat(64)])).objects).toBe(0);
  });
});
