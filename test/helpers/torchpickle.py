"""The data.pkl of a torch.save checkpoint, written as torch writes it (pickle protocol 2, a
persistent ID per storage) but without torch: stand-in classes carry torch's module and names.

Usage: python3 torchpickle.py SPEC_JSON  (SPEC: {"tensors": [[name, storage_class, key, numel, shape?,
offset?], ...], "protocol": 2}; shape defaults to [numel], offset to 0); writes the pickle to stdout.
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


_rebuild_tensor_v2.__module__ = 'torch._utils'
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
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


spec = json.loads(sys.argv[1])
storages = {}
state = collections.OrderedDict()
for entry in spec['tensors']:
    name, cls, key, numel = entry[:4]
    storage = storages.setdefault(key, Storage(getattr(torch, cls), key, numel))
    state[name] = Tensor(storage, entry[4] if len(entry) > 4 else [numel], entry[5] if len(entry) > 5 else 0)
buf = io.BytesIO()
Pickler(buf, protocol=spec.get('protocol', 2)).dump(state)
sys.stdout.buffer.write(buf.getvalue())
