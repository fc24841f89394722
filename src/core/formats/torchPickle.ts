/**
 * The dtypes of a PyTorch checkpoint's storages, read from its `data.pkl`
 * without running it: torch.save pickles each storage as a persistent ID,
 * the tuple ('storage', <class torch.XStorage>, key, location, numel), and
 * the class names the dtype. The opcodes torch.save's pickler (protocols 2
 * to 5) emits are followed on a stack of plain values, with the memo that
 * lets later tensors refer to a storage class already named; every other
 * value is an opaque placeholder. The state dict's entries name the tensors
 * each storage backs: a key set (SETITEM, SETITEMS) to the result of
 * `torch._utils._rebuild_tensor_v2(storage, offset, shape, ...)`. Dicts and
 * lists are followed, so a tensor inside a nested checkpoint is named by its
 * path from the top, as torch names a module's parameters:
 * `{'model': {'fc.weight': t}, 'optimizer': {'state': {0: {'exp_avg': m}}}}`
 * gives `model.fc.weight` and `optimizer.state.0.exp_avg`. A whole module
 * (`torch.save(model)`, as YOLO checkpoints hold one) is followed through its
 * attributes, so its tensors get the names its state dict would give them.
 * An opcode outside
 * that set stops the scan with what was found so far (then some storages keep
 * no dtype or name).
 */
import {
  Container,
  Global,
  MARK,
  MAX_ITEMS,
  OTHER,
  rebuilt,
  STORAGE_DTYPES,
  StorageRef,
  TensorRef,
  type TorchStorage,
  type TorchTensor,
  type Value,
} from './torchPickleValues.js';
import { nameTensors, within, type Placed } from './torchPickleNames.js';
import { MAX_PICKLE } from '../limits.js';

export type { TorchStorage, TorchTensor } from './torchPickleValues.js';

/** What a checkpoint's pickle says: storage key -> dtype, and the named tensors in pickle order. */
export interface TorchPickle {
  storages: Map<string, TorchStorage>;
  tensors: TorchTensor[];
}

/**
 * Storage key -> dtype and element count for every storage whose class names a dtype, and the tensors the state dict
 * names; empty when `pkl` is not such a pickle.
 */
export function torchPickle(pkl: Buffer): TorchPickle {
  const found = new Map<string, TorchStorage>();
  const tensors: TorchTensor[] = [];
  const result = { storages: found, tensors };
  /**
   * Each tensor's key and the container it was put in, in pickle order; named once the pickle is read, when every
   * container knows where it sits.
   */
  const placed: Placed[] = [];
  if (pkl.length > MAX_PICKLE) return result;
  const stack: Value[] = [];
  const memo = new Map<number, Value>();
  let p = 0;
  const need = (n: number) => {
    if (p + n > pkl.length) throw new RangeError('pickle ends inside an opcode');
  };
  const u8 = () => {
    need(1);
    return pkl[p++]!;
  };
  const u16 = () => {
    need(2);
    p += 2;
    return pkl.readUInt16LE(p - 2);
  };
  const u32 = () => {
    need(4);
    p += 4;
    return pkl.readUInt32LE(p - 4);
  };
  const text = (n: number, enc: 'utf8' | 'latin1') => {
    need(n);
    p += n;
    return pkl.toString(enc, p - n, p);
  };
  const line = () => {
    const nl = pkl.indexOf(0x0a, p);
    if (nl < 0) throw new RangeError('pickle ends inside a line');
    const s = pkl.toString('utf8', p, nl);
    p = nl + 1;
    return s;
  };
  const push = (v: Value) => {
    if (stack.length >= MAX_ITEMS) throw new RangeError('pickle stack too deep');
    stack.push(v);
  };
  const pop = (): Value => {
    if (!stack.length) throw new RangeError('pickle stack underflow');
    return stack.pop()!;
  };
  const popMark = (): Value[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) throw new RangeError('no mark on the pickle stack');
    return stack.splice(at).slice(1);
  };
  const remember = (i: number) => {
    if (!stack.length || memo.size >= MAX_ITEMS) throw new RangeError('bad memo');
    memo.set(i, stack[stack.length - 1]!);
  };
  const recall = (i: number) => {
    if (!memo.has(i)) throw new RangeError('memo entry missing');
    push(memo.get(i)!);
  };
  try {
    for (;;) {
      const op = u8();
      switch (op) {
        case 0x80:
          u8();
          break; // PROTO
        case 0x95:
          need(8);
          p += 8;
          break; // FRAME
        case 0x2e:
          return named(); // STOP
        case 0x28:
          push(MARK);
          break; // MARK
        case 0x29:
          push([]);
          break; // EMPTY_TUPLE (a scalar's shape)
        case 0x7d:
        case 0x5d:
          push(new Container());
          break; // EMPTY_DICT, EMPTY_LIST
        case 0x4e:
        case 0x88:
        case 0x89:
          push(OTHER);
          break; // NONE, NEWTRUE, NEWFALSE
        case 0x4b:
          push(u8());
          break; // BININT1
        case 0x4d:
          push(u16());
          break; // BININT2
        case 0x4a:
          need(4);
          push(pkl.readInt32LE(p));
          p += 4;
          break; // BININT
        case 0x8a: {
          // LONG1
          const n = u8();
          need(n);
          push(n > 0 && n <= 6 ? pkl.readIntLE(p, n) : OTHER);
          p += n;
          break;
        }
        case 0x47:
          need(8);
          p += 8;
          push(OTHER);
          break; // BINFLOAT
        case 0x58:
          push(text(u32(), 'utf8'));
          break; // BINUNICODE
        case 0x8c:
          push(text(u8(), 'utf8'));
          break; // SHORT_BINUNICODE
        case 0x55:
          push(text(u8(), 'latin1'));
          break; // SHORT_BINSTRING
        case 0x54:
          push(text(u32(), 'latin1'));
          break; // BINSTRING
        case 0x43: {
          const n = u8();
          need(n);
          p += n;
          push(OTHER);
          break;
        } // SHORT_BINBYTES
        case 0x42: {
          const n = u32();
          need(n);
          p += n;
          push(OTHER);
          break;
        } // BINBYTES
        case 0x63: {
          const module = line();
          push(new Global(module, line()));
          break;
        } // GLOBAL
        case 0x93: {
          const name = pop();
          const module = pop();
          push(typeof module === 'string' && typeof name === 'string' ? new Global(module, name) : OTHER);
          break;
        } // STACK_GLOBAL
        case 0x71:
          remember(u8());
          break; // BINPUT
        case 0x72:
          remember(u32());
          break; // LONG_BINPUT
        case 0x94:
          remember(memo.size);
          break; // MEMOIZE
        case 0x68:
          recall(u8());
          break; // BINGET
        case 0x6a:
          recall(u32());
          break; // LONG_BINGET
        case 0x74:
          push(popMark());
          break; // TUPLE
        case 0x85:
          push([pop()]);
          break; // TUPLE1
        case 0x86: {
          const b = pop();
          push([pop(), b]);
          break;
        } // TUPLE2
        case 0x87: {
          const c = pop();
          const b = pop();
          push([pop(), b, c]);
          break;
        } // TUPLE3
        case 0x64: {
          const kv = popMark();
          const d = new Container();
          for (let i = 0; i + 1 < kv.length; i += 2) put(d, kv[i]!, kv[i + 1]!);
          push(d);
          break;
        } // DICT
        case 0x6c: {
          const items = popMark();
          const l = new Container();
          for (const v of items) put(l, l.length++, v);
          push(l);
          break;
        } // LIST
        case 0x52: {
          const args = pop();
          push(rebuilt(pop(), args));
          break;
        } // REDUCE
        case 0x81:
          pop();
          pop();
          push(new Container());
          break; // NEWOBJ (a dict subclass may be filled next)
        case 0x62: {
          const state = pop();
          attach(top(), state);
          break;
        } // BUILD: the object stays, with `state` as its attributes
        case 0x73: {
          const v = pop();
          const k = pop();
          put(top(), k, v);
          break;
        } // SETITEM
        case 0x61: {
          const v = pop();
          const l = top();
          if (l instanceof Container) put(l, l.length++, v);
          break;
        } // APPEND
        case 0x75: {
          const kv = popMark();
          const d = top();
          for (let i = 0; i + 1 < kv.length; i += 2) put(d, kv[i]!, kv[i + 1]!);
          break;
        } // SETITEMS
        case 0x65: {
          const items = popMark();
          const l = top();
          if (l instanceof Container) for (const v of items) put(l, l.length++, v);
          break;
        } // APPENDS
        case 0x51: {
          // BINPERSID: ('storage', class, key, location, numel)
          const pid = pop();
          if (
            Array.isArray(pid) &&
            pid[0] === 'storage' &&
            pid[1] instanceof Global &&
            pid[1].module === 'torch' &&
            typeof pid[2] === 'string' &&
            typeof pid[4] === 'number'
          ) {
            const kind = Object.hasOwn(STORAGE_DTYPES, pid[1].name) ? STORAGE_DTYPES[pid[1].name] : undefined;
            if (kind) found.set(pid[2], { dtype: kind[0], numel: pid[4], itemSize: kind[1] });
            push(new StorageRef(pid[2]));
          } else push(OTHER);
          break;
        }
        default:
          return named();
      }
    }
  } catch (e) {
    if (e instanceof RangeError) return named();
    throw e;
  }

  function top(): Value {
    if (!stack.length) throw new RangeError('pickle stack underflow');
    return stack[stack.length - 1]!;
  }

  /**
   * Records `container[key] = value` when the value is a tensor (to be named) or a container (its place, the first time
   * it is put anywhere).
   */
  function put(container: Value, key: Value, value: Value): void {
    if (
      !(container instanceof Container) ||
      !(typeof key === 'string' || (typeof key === 'number' && Number.isSafeInteger(key)))
    )
      return;
    if (value instanceof TensorRef && placed.length < MAX_ITEMS)
      placed.push({ key: String(key), owner: container, tensor: value });
    else if (value instanceof Container && value.parent === null && !within(container, value)) {
      value.parent = container;
      value.key = String(key);
    }
  }

  /** Records that `state` holds the attributes of `obj` (the first time it is anywhere). */
  function attach(obj: Value, state: Value): void {
    if (!(obj instanceof Container) || !(state instanceof Container) || state.parent !== null || within(obj, state))
      return;
    state.parent = obj;
    state.attributes = true;
  }

  function named(): TorchPickle {
    if (tensors.length) return result;
    for (const t of nameTensors(placed)) tensors.push(t);
    return result;
  }
}
