// The values the pickle scan of torchPickle.ts keeps on its stack: storages, tensors, containers, placeholders.

/** A storage found in the pickle: its dtype (safetensors-style name), element count and element size. */
export interface TorchStorage {
  dtype: string;
  numel: number;
  itemSize: number;
}

/** Storage class -> [dtype, bytes per element]. */
export const STORAGE_DTYPES: Readonly<Record<string, readonly [string, number]>> = {
  DoubleStorage: ['F64', 8],
  FloatStorage: ['F32', 4],
  HalfStorage: ['F16', 2],
  BFloat16Storage: ['BF16', 2],
  LongStorage: ['I64', 8],
  IntStorage: ['I32', 4],
  ShortStorage: ['I16', 2],
  CharStorage: ['I8', 1],
  ByteStorage: ['U8', 1],
  BoolStorage: ['BOOL', 1],
};

/**
 * A tensor of the state dict: its name, the storage key it views, and where (element offset, shape) when the pickle
 * says.
 */
export interface TorchTensor {
  name: string;
  storage: string;
  offset: number | null;
  shape: number[] | null;
}

/** Most values kept on the pickle stack or in its memo, and most tensors placed. */
export const MAX_ITEMS = 1 << 20;

export const MARK = Symbol('mark');
export const OTHER = Symbol('other');
/** A class or function a GLOBAL opcode named. */
export class Global {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}
/** A storage loaded through its persistent ID. */
export class StorageRef {
  constructor(readonly key: string) {}
}
/** A tensor rebuilt from a storage. */
export class TensorRef {
  constructor(
    readonly storage: string,
    readonly offset: number | null,
    readonly shape: number[] | null,
  ) {}
}
/**
 * A dict, list or object: where it was first put (its container and key), to name the tensors inside it by their path.
 */
export class Container {
  parent: Container | null = null;
  key = '';
  /** The next index APPEND gives, for a list. */
  length = 0;
  /** An object's attributes (the state BUILD gives it): named through, as torch names a module's parameters. */
  attributes = false;
}
export type Value =
  | string
  | number
  | Global
  | StorageRef
  | TensorRef
  | Container
  | Value[]
  | typeof MARK
  | typeof OTHER;

export const isGlobal = (f: Value, module: string, ...names: string[]) =>
  f instanceof Global && f.module === module && names.includes(f.name);
const isRebuild = (f: Value) => isGlobal(f, 'torch._utils', '_rebuild_tensor_v2', '_rebuild_tensor');

/**
 * What a REDUCE makes: the tensor `torch._utils._rebuild_tensor_v2(storage,
 * offset, shape, ...)` makes; the tensor an `nn.Parameter` wraps; or, for
 * any other call, an object that may be filled like a dict (an OrderedDict,
 * a defaultdict).
 */
export function rebuilt(fn: Value, args: Value): Value {
  if (isGlobal(fn, 'torch._utils', '_rebuild_parameter', '_rebuild_parameter_with_state'))
    return Array.isArray(args) && args[0] instanceof TensorRef ? args[0] : OTHER;
  if (!isRebuild(fn)) return new Container();
  if (!Array.isArray(args) || !(args[0] instanceof StorageRef)) return OTHER;
  const shape = args[2];
  const dims =
    Array.isArray(shape) && shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
      ? (shape as number[])
      : null;
  return new TensorRef(args[0].key, typeof args[1] === 'number' ? args[1] : null, dims);
}
