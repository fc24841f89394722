import type { S3Client } from '@aws-sdk/client-s3';
import { MvmError } from '../../errors.js';
import { checkRange, isSafeKey, newStats, type RemoteBackend, type RemoteFile } from './backend.js';
import { tooLargeMessage } from './limits.js';
import { REMOTE_LIMITS } from '../../core/limits.js';
import { discard, readAll, readBody } from './s3Body.js';
import { s3Error, type S3Location, type SdkError } from './s3Errors.js';

export { s3Error, type S3Location } from './s3Errors.js';

type Sdk = typeof import('@aws-sdk/client-s3');

/**
 * S3Backend keeps a remote in an S3-compatible bucket under a prefix. Conditional
 * writes use If-None-Match / If-Match; since some servers ignore them, every
 * swap reads the key back and reports a lost update when another writer won.
 */
export class S3Backend implements RemoteBackend {
  readonly stats = newStats();
  private client: S3Client | null = null;
  private sdk: Sdk | null = null;

  constructor(readonly loc: S3Location) {}

  get url(): string {
    return this.loc.url;
  }

  private async open(): Promise<{ client: S3Client; sdk: Sdk }> {
    if (!this.client || !this.sdk) {
      // the release pinned in package.json runs on Node 20; its notice about later releases is not ours to print
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      this.sdk = await import('@aws-sdk/client-s3');
      const endpoint = this.loc.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
      this.client = new this.sdk.S3Client({
        ...(endpoint ? { endpoint } : {}),
        region: this.loc.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
        forcePathStyle: this.loc.pathStyle ?? !!endpoint,
        maxAttempts: 4,
      });
    }
    return { client: this.client, sdk: this.sdk };
  }

  private key(key: string): string {
    if (!isSafeKey(key))
      throw new MvmError('REMOTE_CORRUPT', `remote key '${key}' is not a key mvm writes`, { url: this.url, key });
    return this.loc.prefix ? `${this.loc.prefix}/${key}` : key;
  }

  async read(key: string, max: number = REMOTE_LIMITS.other): Promise<RemoteFile | null> {
    const { client, sdk } = await this.open();
    this.stats.requests++;
    try {
      const r = await client.send(new sdk.GetObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key) }));
      // the size first: a huge object is refused before its body is read
      if (r.ContentLength !== undefined && r.ContentLength > max) {
        discard(r.Body);
        throw new MvmError('REMOTE_CORRUPT', tooLargeMessage(key, this.url, r.ContentLength, max), {
          url: this.url,
          key,
          size: r.ContentLength,
          max,
          hint: 'the remote is damaged; remove or repair that file',
        });
      }
      const data = await readAll(r.Body as AsyncIterable<Uint8Array>, max, { url: this.url, key });
      this.stats.bytesDown += data.length;
      return { data, tag: r.ETag ?? '' };
    } catch (e) {
      const err = e as SdkError;
      if (err.name === 'NoSuchKey' || (err.$metadata?.httpStatusCode === 404 && err.name !== 'NoSuchBucket'))
        return null;
      throw s3Error(e, this.loc, `reading ${key}`);
    }
  }

  async readRange(key: string, offset: number, length: number): Promise<Buffer> {
    checkRange(key, this.url, offset, length);
    if (length === 0) return Buffer.alloc(0);
    const { client, sdk } = await this.open();
    this.stats.requests++;
    let data: Buffer;
    try {
      const r = await client.send(
        new sdk.GetObjectCommand({
          Bucket: this.loc.bucket,
          Key: this.key(key),
          Range: `bytes=${offset}-${offset + length - 1}`,
        }),
      );
      // a lying index gets no allocation of the length it claims: the server says how much there is
      if (r.ContentLength !== undefined && r.ContentLength < length) {
        discard(r.Body);
        throw new MvmError('REMOTE_CORRUPT', `remote file ${key} is shorter than its index says`, {
          url: this.url,
          key,
          hint: 'the remote is damaged; push again from a complete repository',
        });
      }
      data = await readBody(r.Body as AsyncIterable<Uint8Array>, length, { url: this.url, key });
    } catch (e) {
      const err = e as SdkError;
      if (err.name === 'NoSuchKey' || err.name === 'InvalidRange' || err.$metadata?.httpStatusCode === 416) {
        throw new MvmError('REMOTE_CORRUPT', `remote file ${key} is missing or shorter than its index says`, {
          url: this.url,
          key,
          hint: 'the remote is damaged; push again from a complete repository',
        });
      }
      throw s3Error(e, this.loc, `reading ${key}`);
    }
    this.stats.bytesDown += data.length;
    if (data.length !== length) {
      throw new MvmError('REMOTE_CORRUPT', `remote file ${key} is shorter than its index says`, {
        url: this.url,
        key,
        hint: 'the remote is damaged; push again from a complete repository',
      });
    }
    return data;
  }

  async write(key: string, data: Uint8Array): Promise<void> {
    await this.put(key, data, {});
  }

  /**
   * One PUT when the first part is the whole file; otherwise a multipart
   * upload, a part at a time (S3 wants every part but the last to be at
   * least 5 MiB). The object appears only when the upload completes; a failed
   * one is aborted, so nothing half-written is ever readable.
   */
  async writeParts(key: string, size: number, parts: Iterable<Buffer>): Promise<void> {
    const it = parts[Symbol.iterator]();
    const first = it.next();
    if (first.done || first.value.length === size) {
      await this.put(key, first.done ? Buffer.alloc(0) : first.value, {});
      return;
    }
    const { client, sdk } = await this.open();
    const Bucket = this.loc.bucket;
    const Key = this.key(key);
    let UploadId: string | undefined;
    try {
      this.stats.requests++;
      UploadId = (await client.send(new sdk.CreateMultipartUploadCommand({ Bucket, Key }))).UploadId;
      if (!UploadId)
        throw new MvmError('REMOTE_UNREACHABLE', `${this.url}: the server started no multipart upload for ${key}`, {
          url: this.url,
          key,
        });
      const done: { PartNumber: number; ETag?: string }[] = [];
      let written = 0;
      for (let r: IteratorResult<Buffer> = first; !r.done; r = it.next()) {
        const PartNumber = done.length + 1;
        this.stats.requests++;
        const up = await client.send(
          new sdk.UploadPartCommand({
            Bucket,
            Key,
            UploadId,
            PartNumber,
            Body: r.value,
            ContentLength: r.value.length,
          }),
        );
        done.push({ PartNumber, ETag: up.ETag });
        written += r.value.length;
        this.stats.bytesUp += r.value.length;
      }
      if (written !== size)
        throw new MvmError('IO_ERROR', `${key}: ${written} bytes were read where ${size} were planned`, {
          url: this.url,
          key,
        });
      this.stats.requests++;
      await client.send(
        new sdk.CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } }),
      );
    } catch (e) {
      if (UploadId) {
        this.stats.requests++;
        // servers that do not know AbortMultipartUpload expire the parts themselves
        await client.send(new sdk.AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
      }
      throw s3Error(e, this.loc, `writing ${key}`);
    }
  }

  private async put(key: string, data: Uint8Array, cond: { IfMatch?: string; IfNoneMatch?: string }): Promise<boolean> {
    const { client, sdk } = await this.open();
    this.stats.requests++;
    try {
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.loc.bucket,
          Key: this.key(key),
          Body: data,
          ContentLength: data.length,
          ...cond,
        }),
      );
    } catch (e) {
      const err = e as SdkError;
      const status = err.$metadata?.httpStatusCode;
      if (
        status === 412 ||
        status === 409 ||
        err.name === 'PreconditionFailed' ||
        err.name === 'ConditionalRequestConflict'
      )
        return false;
      throw s3Error(e, this.loc, `writing ${key}`);
    }
    this.stats.bytesUp += data.length;
    return true;
  }

  async swap(key: string, data: Uint8Array, expected: string | null): Promise<boolean> {
    // Where the server honours the condition, a lost race is refused here. Where it ignores
    // it, the read below still catches a writer who came after us; one who wrote between our
    // read of `expected` and our write is caught when that writer reads back its own swap.
    const cur = await this.read(key);
    if ((cur?.tag ?? null) !== expected) return false;
    if (!(await this.put(key, data, expected === null ? { IfNoneMatch: '*' } : { IfMatch: expected }))) return false;
    const after = await this.read(key);
    return !!after && Buffer.compare(after.data, Buffer.from(data)) === 0;
  }

  async list(prefix: string): Promise<string[]> {
    const { client, sdk } = await this.open();
    const out: string[] = [];
    const base = this.loc.prefix ? `${this.loc.prefix}/` : '';
    let token: string | undefined;
    do {
      this.stats.requests++;
      let r;
      try {
        r = await client.send(
          new sdk.ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: base + prefix, ContinuationToken: token }),
        );
      } catch (e) {
        throw s3Error(e, this.loc, `listing ${prefix}`);
      }
      for (const o of r.Contents ?? []) {
        const k = o.Key?.slice(base.length);
        if (k && isSafeKey(k)) out.push(k);
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  async size(key: string): Promise<number | null> {
    const { client, sdk } = await this.open();
    this.stats.requests++;
    try {
      const r = await client.send(new sdk.HeadObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key) }));
      return r.ContentLength ?? 0;
    } catch (e) {
      const err = e as SdkError;
      if (
        err.name === 'NotFound' ||
        err.name === 'NoSuchKey' ||
        (err.$metadata?.httpStatusCode === 404 && err.name !== 'NoSuchBucket')
      )
        return null;
      throw s3Error(e, this.loc, `reading ${key}`);
    }
  }

  async remove(key: string): Promise<void> {
    const { client, sdk } = await this.open();
    this.stats.requests++;
    try {
      await client.send(new sdk.DeleteObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key) }));
    } catch (e) {
      const err = e as SdkError;
      if (err.name === 'NoSuchKey' || (err.$metadata?.httpStatusCode === 404 && err.name !== 'NoSuchBucket')) return;
      throw s3Error(e, this.loc, `deleting ${key}`);
    }
  }

  async close(): Promise<void> {
    this.client?.destroy();
    this.client = null;
  }
}
