"""The data.pkl of a torch.save checkpoint, written as torch writes it (pickle protocol 2, a
persistent ID per storage) but without torch: stand-in classes carry torch's module and names.

Usage: python3 torchpickle.py SPEC_JSON  (SPEC: {"tensors": [[name, storage_class, key, numel, shape?,
offset?], ...], "protocol": 2, "extra": {...}, "parameters": false}; shape defaults to [numel], offset to
0); writes the pickle to stdout. A name that is a list is a path into nested plain dicts and lists, as
in a training checkpoint: ["optimizer", "state", 0, "exp_avg"]; a "#N" step is index N of a list. "extra"
entries (numbers, strings, lists) join the top level; "parameters" wraps each tensor as nn.Parameter.
"module": "NAME" saves a whole nn.Module instead of a state dict, as torch.save(model) does (objects
whose attributes hold _parameters, _buffers and _modules; dotted names say where each tensor sits,
"running_*" ones are buffers), under NAME at the top level, or as the top level itself when NAME is "".
"""
import collections
import io
import json
import pickle
import sys
import types

torch = types.ModuleType('torch')
torch_utils = types.ModuleType('torch._utils')
sys.modules['torch'] = torch
sys.modules['torch._utils'] = torch_utils


def _rebuild_tensor_v2(*args):
    raise NotImplementedError


def _rebuild_parameter(*args):
    raise NotImplementedError


_rebuild_tensor_v2.__module__ = 'torch._utils'
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
_rebuild_parameter.__module__ = 'torch._utils'
torch_utils._rebuild_parameter = _rebuild_parameter
for name in ['FloatStorage', 'BFloat16Storage', 'HalfStorage', 'LongStorage', 'DoubleStorage', 'ComplexFloatStorage']:
    cls = type(name, (), {'__module__': 'torch'})
    setattr(torch, name, cls)


class Storage:
    def __init__(self, cls, key, numel):
        self.cls, self.key, self.numel = cls, key, numel


class Tensor:
    def __init__(self, storage, shape, offset):
        self.storage, self.shape, self.offset = storage, tuple(shape), offset

    def __reduce_ex__(self, protocol):
        strides = tuple(int(__import__('math').prod(self.shape[i + 1:])) for i in range(len(self.shape)))
        return (_rebuild_tensor_v2, (self.storage, self.offset, self.shape, strides, False, collections.OrderedDict()))


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ('storage', obj.cls, obj.key, 'cpu', obj.numel)
        return None


class Parameter:
    def __init__(self, tensor):
        self.tensor = tensor

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.tensor, True, collections.OrderedDict()))


def step_key(step):
    """A path step as a key: "#N" is index N of a list."""
    return int(step[1:]) if isinstance(step, str) and step.startswith('#') else step


def put(container, key, value):
    """container[key] = value, growing a list to reach index key."""
    if isinstance(container, list):
        while len(container) <= key:
            container.append(None)
    container[key] = value


def place(root, path, value):
    """Puts value at path, making plain dicts and lists on the way (as an optimizer's state_dict holds them)."""
    at = root
    for step, nxt in zip(path, path[1:]):
        key = step_key(step)
        present = (not isinstance(at, list) and key in at) or (
            isinstance(at, list) and key < len(at) and at[key] is not None
        )
        inner = at[key] if present else None
        if inner is None:
            inner = [] if isinstance(nxt, str) and nxt.startswith('#') else {}
            put(at, key, inner)
        at = inner
    put(at, step_key(path[-1]), value)


nn_module = types.ModuleType('torch.nn.modules.module')
sys.modules['torch.nn.modules.module'] = nn_module


class Module:
    def __init__(self):
        self.training = True
        self._parameters = collections.OrderedDict()
        self._buffers = collections.OrderedDict()
        self._modules = collections.OrderedDict()


Module.__module__ = 'torch.nn.modules.module'
nn_module.Module = Module


def module_tree(named):
    """A Module holding each (dotted name, tensor) where its name says, as torch.save(model) pickles it."""
    root = Module()
    for name, tensor in named:
        *path, leaf = name.split('.')
        at = root
        for step in path:
            at = at._modules.setdefault(step, Module())
        if leaf.startswith('running_'):
            at._buffers[leaf] = tensor
        else:
            at._parameters[leaf] = Parameter(tensor)
    return root


spec = json.loads(sys.argv[1])
storages = {}
state = collections.OrderedDict()
for entry in spec['tensors']:
    name, cls, key, numel = entry[:4]
    storage = storages.setdefault(key, Storage(getattr(torch, cls), key, numel))
    tensor = Tensor(storage, entry[4] if len(entry) > 4 else [numel], entry[5] if len(entry) > 5 else 0)
    place(state, name if isinstance(name, list) else [name], Parameter(tensor) if spec.get('parameters') else tensor)
if 'module' in spec:
    tree = module_tree(list(state.items()))
    state = tree if spec['module'] == '' else collections.OrderedDict([(spec['module'], tree)])
for k, v in spec.get('extra', {}).items():
    if isinstance(state, Module):
        raise SystemExit('"extra" needs a dict at the top level, not a module')
    state[k] = v
buf = io.BytesIO()
Pickler(buf, protocol=spec.get('protocol', 2)).dump(state)
sys.stdout.buffer.write(buf.getvalue())
