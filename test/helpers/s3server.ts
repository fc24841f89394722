import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A running local S3 server: its endpoint, the credentials it accepts, and how to stop it. */
export interface LocalS3 {
  endpoint: string;
  env: Record<string, string>;
  dir: string;
  stop(): Promise<void>;
}

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 's3server-main.mjs');
// s3rver makes the continuation token of a listing past 1,000 keys with DES, which OpenSSL 3 keeps in its legacy
// provider: without it, the second page of a listing is an InternalError (HTTP 500)
const LEGACY = process.allowedNodeEnvironmentFlags.has('--openssl-legacy-provider')
  ? ['--openssl-legacy-provider']
  : [];

/**
 * Starts s3rver on 127.0.0.1 (a free port) with the given buckets, in a child
 * process: the tests block on spawnSync, which would freeze a server running
 * in their own process.
 */
export async function startS3(buckets: string[]): Promise<LocalS3> {
  const dir = mkdtempSync(join(tmpdir(), 'mvm-s3-'));
  const child = spawn(process.execPath, [...LEGACY, MAIN, dir, ...buckets], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`s3rver exited with ${code} before it listened`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    env: {
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    dir,
    async stop() {
      const exited = new Promise((r) => child.on('exit', r));
      child.stdin!.end();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
