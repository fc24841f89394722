// How the tensors of a checkpoint's pickle (torchPickle.ts) get their names: by their path of keys through
// the containers that hold them.
import { MAX_NAME_CHARS, MAX_TENSOR_NAME } from '../limits.js';
import type { Container, TensorRef, TorchTensor } from './torchPickleValues.js';

/**
 * The attributes of an nn.Module that hold its parameters, buffers and submodules: not part of their names
 * (`fc.weight`, not `_modules.fc._parameters.weight`).
 */
const MODULE_DICTS = new Set(['_parameters', '_buffers', '_modules']);
/** Deepest nesting a tensor's name follows: a tensor deeper down goes unnamed (its storage keeps `data/<key>`). */
const MAX_DEPTH = 64;
/**
 * Longest tensor name, and most characters of names (and of the paths they share) one pickle gives: a hostile pickle
 * can reuse a long key down a deep path for a million tensors. Beyond either, tensors go unnamed.
 */
const MAX_NAME = MAX_TENSOR_NAME;

/** A tensor put in a container under `key`, in pickle order: named once the pickle is read. */
export interface Placed {
  key: string;
  owner: Container;
  tensor: TensorRef;
}

/** Whether `c` is `outer` or sits inside it (so that placing `outer` in `c` would make a cycle). */
export function within(c: Container, outer: Container): boolean {
  for (let at: Container | null = c, depth = 0; at && depth <= MAX_DEPTH; at = at.parent, depth++)
    if (at === outer) return true;
  return false;
}

/**
 * The tensors, each named by the keys from the outermost container down to
 * it (an object's attributes and a module's own dicts add none). Each
 * container's path is made once; null for one too deep or too long, or
 * once the pickle's budget of name characters is spent.
 */
export function nameTensors(placed: readonly Placed[]): TorchTensor[] {
  const tensors: TorchTensor[] = [];
  const paths = new Map<Container, string | null>();
  let budget = MAX_NAME_CHARS;
  const pathOf = (c: Container): string | null => {
    // up to the outermost container, or one whose path is known
    const chain: Container[] = [];
    let at = c;
    while (at.parent && !paths.has(at)) {
      // too deep (or a cycle): unnamed, and not remembered, as the containers on the way may be shallow enough
      if (chain.length === MAX_DEPTH) return null;
      chain.push(at);
      at = at.parent;
    }
    let path: string | null = at.parent ? (paths.get(at) ?? null) : '';
    for (let i = chain.length - 1; i >= 0; i--) {
      const x = chain[i]!;
      if (path !== null && !x.attributes && !(x.parent!.attributes && MODULE_DICTS.has(x.key))) {
        path = path ? `${path}.${x.key}` : x.key;
        budget -= path.length;
        if (path.length > MAX_NAME || budget < 0) path = null;
      }
      paths.set(x, path);
    }
    return path;
  };
  for (const { key, owner, tensor } of placed) {
    const path = pathOf(owner);
    if (path === null) continue;
    const name = path ? `${path}.${key}` : key;
    budget -= name.length;
    if (name.length > MAX_NAME || budget < 0) continue;
    tensors.push({ name, storage: tensor.storage, offset: tensor.offset, shape: tensor.shape });
  }
  return tensors;
}
