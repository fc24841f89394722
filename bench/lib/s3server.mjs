// s3rver (a real S3-protocol server) in a child process on 127.0.0.1, for the benches that talk to S3
// (bench/remotes.mjs, bench/s3scale.mjs): the same helper the tests use (test/helpers/s3server-main.mjs).
import { spawn } from 'node:child_process';
import { join } from 'node:path';

// s3rver makes the continuation token of a listing longer than 1,000 keys with DES, which OpenSSL 3 keeps in its
// legacy provider: without it, the second page of a listing is an InternalError (HTTP 500)
const LEGACY = process.allowedNodeEnvironmentFlags.has('--openssl-legacy-provider')
  ? ['--openssl-legacy-provider']
  : [];

/** Starts s3rver on 127.0.0.1 in a child process; resolves with its endpoint and a stop function. */
export async function startS3(root, dir, bucket) {
  const child = spawn(process.execPath, [...LEGACY, join(root, 'test', 'helpers', 's3server-main.mjs'), dir, bucket], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((r) => {
        child.on('exit', r);
        child.stdin.end();
        setTimeout(() => child.kill('SIGKILL'), 5000);
      }),
  };
}

/** The environment a process needs to reach s3rver (its fixed credentials; no instance metadata lookups). */
export const S3RVER_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
};
