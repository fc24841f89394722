/**
 * torch.save's data.pkl, written by Python's pickle as torch writes it (test/helpers/torchpickle.py; no torch needed).
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { H5_PYTHON } from './h5.js';

/**
 * One tensor of the state dict: its name, its storage's class (FloatStorage,
 * BFloat16Storage...), the storage key and element count, and the tensor's
 * shape and element offset in the storage (default [numel] and 0). A name
 * that is a list is a path into nested dicts (a number is an int key, "#N"
 * index N of a list), as in a checkpoint holding a model and its optimizer.
 */
export type TorchTensor = [
  name: string | (string | number)[],
  storageClass: string,
  key: string,
  numel: number,
  shape?: number[],
  offset?: number,
];

/**
 * How the checkpoint is saved beyond its tensors: top-level entries that are
 * not tensors, tensors wrapped as nn.Parameter, or a whole nn.Module (as
 * torch.save(model) saves one) under the key `module` ('' for the top level).
 */
export interface TorchPickleOptions {
  extra?: Record<string, unknown>;
  parameters?: boolean;
  module?: string;
}

/** The pickle of a state dict of `tensors` (tensors sharing a key share the storage), in pickle `protocol`. */
export function torchPickle(tensors: TorchTensor[], protocol = 2, opts: TorchPickleOptions = {}): Buffer {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torchpickle.py');
  return execFileSync(H5_PYTHON, [script, JSON.stringify({ tensors, protocol, ...opts })]);
}
