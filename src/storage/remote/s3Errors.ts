import { MvmError } from '../../errors.js';

/** Where an S3-compatible remote lives and how to reach it. Credentials come from the AWS SDK's default chain only. */
export interface S3Location {
  url: string;
  bucket: string;
  /** Key prefix inside the bucket, without a trailing slash ('' for the bucket root). */
  prefix: string;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
}

/** The fields of an AWS SDK (or network) error that s3Error reads. */
export interface SdkError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Turns an SDK or network failure into an MvmError with a stable code; never includes credentials. */
export function s3Error(e: unknown, loc: S3Location, doing: string): MvmError {
  if (e instanceof MvmError) return e;
  const err = (e ?? {}) as SdkError;
  const name = err.name ?? err.Code ?? err.code ?? '';
  const status = err.$metadata?.httpStatusCode;
  const where = { url: loc.url, ...(loc.endpoint ? { endpoint: loc.endpoint } : {}) };
  if (name === 'NoSuchBucket') {
    return new MvmError('REMOTE_NOT_FOUND', `bucket '${loc.bucket}' does not exist`, {
      ...where,
      hint: 'create the bucket, or check the remote URL and --endpoint',
    });
  }
  if (name === 'CredentialsProviderError' || (/credential/i.test(err.message ?? '') && !status)) {
    return new MvmError('REMOTE_AUTH', `no credentials for ${loc.url}`, {
      ...where,
      hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE',
    });
  }
  if (
    ['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken'].includes(name) ||
    status === 401
  ) {
    return new MvmError('REMOTE_AUTH', `the credentials were refused by ${loc.endpoint ?? 'S3'} (${name || status})`, {
      ...where,
      hint: 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile in use',
    });
  }
  if (name === 'AccessDenied' || status === 403) {
    return new MvmError('REMOTE_DENIED', `permission denied while ${doing} on ${loc.url}`, {
      ...where,
      hint: 'the credentials work but may not read or write this bucket and prefix',
    });
  }
  if (
    !status ||
    ['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'TimeoutError'].includes(name) ||
    /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|socket hang up/.test(err.message ?? '')
  ) {
    return new MvmError('REMOTE_UNREACHABLE', `cannot reach ${loc.endpoint ?? 'S3'} for ${loc.url} while ${doing}`, {
      ...where,
      hint: 'check the network, --endpoint or AWS_ENDPOINT_URL',
    });
  }
  return new MvmError('REMOTE_UNREACHABLE', `${loc.url}: ${name || 'error'} (HTTP ${status}) while ${doing}`, {
    ...where,
    status,
  });
}
