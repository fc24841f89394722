/** Direct access to the objects of S3 remotes on a local s3rver, for tests that damage or inspect a remote. */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { LocalS3 } from './s3server.js';

/** The objects of remotes `s3://BUCKET/PREFIX` on the server that `server()` returns, by remote URL and key. */
export function s3Objects(server: () => LocalS3, bucket: string) {
  const client = () =>
    new S3Client({
      endpoint: server().endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  const s3key = (url: string, key: string) => `${url.slice(`s3://${bucket}/`.length)}/${key}`;
  return {
    /** Overwrites `key` of the remote at `url` with `data`. */
    put: async (url: string, key: string, data: Buffer): Promise<void> => {
      await client().send(new PutObjectCommand({ Bucket: bucket, Key: s3key(url, key), Body: data }));
    },
    /** The bytes of `key` of the remote at `url`. */
    get: async (url: string, key: string): Promise<Buffer> =>
      Buffer.from(
        await (
          await client().send(new GetObjectCommand({ Bucket: bucket, Key: s3key(url, key) }))
        ).Body!.transformToByteArray(),
      ),
    /** Deletes `key` of the remote at `url`. */
    del: async (url: string, key: string): Promise<void> => {
      await client().send(new DeleteObjectCommand({ Bucket: bucket, Key: s3key(url, key) }));
    },
  };
}
