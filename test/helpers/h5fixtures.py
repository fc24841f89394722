"""HDF5 and .keras fixtures for the tests, written by h5py (Debian's python3-h5py).

Usage: python3 h5fixtures.py DIR [SEED] [CHANGED]
Writes into DIR:
  earliest.h5   h5py's default file format (symbol-table groups, version 1 object headers)
  latest.h5     libver='latest' with at most 8 links per group (compact groups, version 2 headers)
  dense.h5      libver='latest' with groups of 40 and 1,500 links (dense storage: fractal heaps, name indexes)
  huge-group.h5 libver='latest', a group of 30,000 links to one dataset and 5 datasets
                (indirect heap blocks in indirect blocks)
  userblock.h5  h5py's default format after a 512-byte user block holding a MATLAB v7.3 header, as .mat files have
  userblock-latest.h5  libver='latest' after a 1,024-byte user block
  tiny.h5, tiny-latest.h5, tiny.keras  three small datasets in nested groups, for fuzzing
  tiny-dense.h5  twelve small datasets in one dense group, for fuzzing
  tiny-userblock.h5  three small datasets (one a Keras bf16) after a 512-byte user block, for fuzzing
  keras2.h5     a whole model as Keras 2 saves one (model.save('m.h5')): model_weights/<layer>/<layer>/kernel:0
                with the layer_names and weight_names attributes, model_config and training_config as JSON,
                optimizer_weights/Adam/...:0
  model.keras   a stored zip of metadata.json, config.json and model.weights.h5, as Keras 3 saves
  deflated.keras the same archive with its entries deflated
Attributes added after the members grow object headers into continuation blocks (of version 1
headers in earliest.h5, of version 2 in the others). The script prints, as JSON, every dataset of
every file: its names (a dataset hard-linked twice has two), dtype, shape, and where HDF5 says its
bytes are (offset within the .h5 bytes, storage size), or null when it is not stored
contiguously. CHANGED names a weight whose values differ from SEED's.
"""
import io
import json
import sys
import zipfile

import h5py
import numpy as np

out = sys.argv[1]
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
changed = sys.argv[3] if len(sys.argv) > 3 else None


def bf16_type():
    t = h5py.h5t.IEEE_F32LE.copy()
    t.set_fields(15, 7, 8, 0, 7)
    t.set_precision(16)
    t.set_size(2)
    t.set_ebias(127)
    return t


def weights(f, many, wide=0):
    """A small Keras-like model's weights, and the odd datasets a parser must handle."""
    for i in range(6):
        for j, shape in enumerate([(96, 64), (64,)]):
            name = f'layers/dense_{i}/vars/{j}'
            rng = np.random.default_rng([seed + (1000 if name == changed else 0), i, j])
            f.create_dataset(name, data=(rng.standard_normal(shape) * 0.05).astype('<f4'))
    f.create_dataset('layers/embedding/vars/0', data=np.random.default_rng(7).standard_normal((50, 16)).astype('<f2'))
    f.create_dataset('optimizer/vars/0', data=np.int64(12))
    f.create_dataset('odd/big_endian', data=np.arange(50, dtype='>f8'))
    f.create_dataset('odd/ints', data=np.arange(20, dtype='<i4'))
    f.create_dataset('odd/chunked', data=np.ones((40, 40), '<f4'), chunks=(10, 10), compression='gzip')
    f.create_dataset('odd/empty', shape=(0, 4), dtype='<f4')
    f.create_dataset('odd/unwritten', shape=(8,), dtype='<f4')
    bf = h5py.h5d.create(f['odd'].id, b'bf16', bf16_type(), h5py.h5s.create_simple((4, 8)))
    f['odd/bf16'][...] = np.linspace(-2, 2, 32, dtype='<f4').reshape(4, 8)
    # Keras 3 saves a bf16 weight as h5py stores ml_dtypes.bfloat16: 2-byte opaque data, with attribute dtype="bfloat16"
    def bf16_bits(lo, hi):
        return (np.linspace(lo, hi, 48, dtype='<f4').view('<u4') >> 16).astype('<u2').view('V2')
    f.create_dataset('odd/keras_bf16', data=bf16_bits(-2, 2).reshape(6, 8)).attrs['dtype'] = 'bfloat16'
    f.create_dataset('odd/keras_bf16_fixed', data=bf16_bits(-3, 1)).attrs.create('dtype', np.bytes_('bfloat16'))
    f.create_dataset('odd/opaque', data=bf16_bits(0, 5))
    f['odd/alias'] = f['odd/ints']
    f['odd/soft'] = h5py.SoftLink('/odd/ints')
    f['layers/loop'] = f['layers']  # a group that holds itself
    f.attrs['model_config'] = json.dumps({'layers': ['dense'] * 6})
    # attributes added after the members grow the object headers into continuation blocks
    for i in range(40):
        f['layers'].attrs[f'note_{i:02d}'] = np.arange(40, dtype='<i8')
        f['layers/dense_0/vars/0'].attrs[f'note_{i:02d}'] = f'{i}' * 30
    if many:
        g = f.create_group('many')
        for i in range(40):
            g.create_dataset(f'w{i:02d}', data=np.full((8,), i, dtype='<f4'))
    if wide:
        g = f.create_group('wide')
        for i in range(wide):
            g.create_dataset(f'layer_{i:04d}', data=np.full((4,), i, dtype='<i4'))


def describe(f):
    seen = {}
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            key = obj.id.get_offset(), obj.id.get_storage_size(), obj.name
            offset = obj.id.get_offset()
            where = None
            contiguous = obj.id.get_create_plist().get_layout() == h5py.h5d.CONTIGUOUS
            if contiguous and offset is not None and obj.id.get_storage_size() > 0:
                where = {'offset': offset, 'size': obj.id.get_storage_size()}
            ident = obj.id.get_offset() if where else name
            entry = seen.setdefault(
                ident, {'names': [], 'dtype': obj.dtype.str, 'shape': list(obj.shape), 'where': where}
            )
            entry['names'].append(name)
    f.visititems(visit)
    # visititems shows a hard-linked dataset once: list every name it has
    for e in seen.values():
        if e['where']:
            aliased = {'odd/ints', 'odd/alias'} if e['names'][0] in ('odd/ints', 'odd/alias') else set()
            e['names'] = sorted(set(e['names']) | aliased)
    return list(seen.values())


files = {}
for name, libver, many, wide in [
    ('earliest.h5', 'earliest', True, 0),
    ('latest.h5', 'latest', False, 0),
    ('dense.h5', 'latest', True, 1500),
]:
    with h5py.File(f'{out}/{name}', 'w', libver=libver) as f:
        weights(f, many, wide)
    with h5py.File(f'{out}/{name}', 'r') as f:
        files[name] = describe(f)

# a group of 30,000 links: its fractal heap has indirect blocks inside the root indirect block
with h5py.File(f'{out}/huge-group.h5', 'w', libver='latest') as f:
    target = f.create_dataset('target', data=np.arange(4, dtype='<f4'))
    g = f.create_group('g')
    for i in range(30000):
        g[f'link_{i:05d}'] = target
    for i in range(5):
        g.create_dataset(f'last_{i}', data=np.full((4,), i, dtype='<f4'))
with h5py.File(f'{out}/huge-group.h5', 'r') as f:
    files['huge-group.h5'] = describe(f)

# HDF5 after a user block: the superblock at 512 or 1,024, addresses relative to it
for name, libver, size in [('userblock.h5', 'earliest', 512), ('userblock-latest.h5', 'latest', 1024)]:
    with h5py.File(f'{out}/{name}', 'w', libver=libver, userblock_size=size) as f:
        weights(f, False)
    with open(f'{out}/{name}', 'r+b') as h:
        h.write(b'MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Sun Nov 29 12:00:00 2026 HDF5 schema 1.00 .')
    with h5py.File(f'{out}/{name}', 'r') as f:
        files[name] = describe(f)

# a whole model as Keras 2's legacy HDF5 saving writes it (keras/saving/legacy/hdf5_format.py)
with h5py.File(f'{out}/keras2.h5', 'w') as f:
    layers = [('dense', (32, 16)), ('dense_1', (16, 4))]
    f.attrs['keras_version'] = '2.11.0'
    f.attrs['backend'] = 'tensorflow'
    f.attrs['model_config'] = json.dumps({'class_name': 'Sequential', 'config': {'layers': [n for n, _ in layers]}})
    f.attrs['training_config'] = json.dumps({'loss': 'mse', 'optimizer_config': {'class_name': 'Adam'}})
    mw = f.create_group('model_weights')
    mw.attrs['layer_names'] = np.array([n.encode() for n, _ in layers])
    mw.attrs['backend'] = 'tensorflow'
    mw.attrs['keras_version'] = '2.11.0'
    ow = f.create_group('optimizer_weights')
    ow.create_dataset('Adam/iter:0', data=np.int64(40 + seed))
    names = []
    for i, (layer, shape) in enumerate(layers):
        g = mw.create_group(layer)
        vars_ = [(f'{layer}/kernel:0', shape), (f'{layer}/bias:0', shape[1:])]
        g.attrs['weight_names'] = np.array([w.encode() for w, _ in vars_])
        for j, (w, wshape) in enumerate(vars_):
            rng = np.random.default_rng([seed, i, j])
            g.create_dataset(w, data=rng.standard_normal(wshape).astype('<f4'))
            for slot in ('m', 'v'):
                ow.create_dataset(f'Adam/{w[:-2]}/{slot}:0', data=np.zeros(wshape, '<f4'))
with h5py.File(f'{out}/keras2.h5', 'r') as f:
    files['keras2.h5'] = describe(f)

# small files for fuzzing: structure, not data
for name, libver in [('tiny.h5', 'earliest'), ('tiny-latest.h5', 'latest')]:
    with h5py.File(f'{out}/{name}', 'w', libver=libver) as f:
        f.create_dataset('a/b/w', data=np.arange(6, dtype='<f4'))
        f.create_dataset('a/i', data=np.arange(3, dtype='>i2'))
        f.create_dataset('s', data=np.float64(1.5))
        f['a/loop'] = f['a']
        f['a/soft'] = h5py.SoftLink('/s')
with h5py.File(f'{out}/tiny-userblock.h5', 'w', userblock_size=512) as f:
    f.create_dataset('a/w', data=np.arange(6, dtype='<f4'))
    f.create_dataset('b', data=np.arange(3, dtype='<i2'))
    f.create_dataset('k', data=np.arange(4, dtype='<u2').view('V2')).attrs['dtype'] = 'bfloat16'
with h5py.File(f'{out}/tiny-dense.h5', 'w', libver='latest') as f:
    for i in range(12):
        f.create_dataset(f'g/w{i:02d}', data=np.full((2,), i, dtype='<f4'))
with zipfile.ZipFile(f'{out}/tiny.keras', 'w') as z:
    z.writestr('config.json', '{}')
    with open(f'{out}/tiny.h5', 'rb') as h:
        z.writestr('model.weights.h5', h.read())

buf = io.BytesIO()
with h5py.File(buf, 'w') as f:
    weights(f, False)
with h5py.File(io.BytesIO(buf.getvalue()), 'r') as f:
    files['model.keras'] = describe(f)
for name, method in [('model.keras', zipfile.ZIP_STORED), ('deflated.keras', zipfile.ZIP_DEFLATED)]:
    with zipfile.ZipFile(f'{out}/{name}', 'w', compression=method) as z:
        meta = {'keras_version': '3.0.0', 'date_saved': f'seed {seed}, changed {changed}'}
        z.writestr('metadata.json', json.dumps(meta))
        z.writestr('config.json', json.dumps({'class_name': 'Sequential'}))
        z.writestr('model.weights.h5', buf.getvalue())
print(json.dumps(files))
