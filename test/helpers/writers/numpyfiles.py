"""NumPy files written by numpy itself (np.save, np.savez, np.savez_compressed), and their check after a round trip.

Usage:
  python3 numpyfiles.py write DIR   writes DIR/v1 and DIR/v2 (v2: every value changed), each with
      NAME.npy         one np.save per array below (little- and big-endian, Fortran order, a 0-d scalar, complex,
                       strings)
      arrays.npz       np.savez of them all (stored entries)
      compressed.npz   np.savez_compressed of them all (deflated entries)
    Prints, as JSON, each array's dtype string, shape and whether it is in Fortran order: {NAME: [str, shape, f]}.
  python3 numpyfiles.py check WANT GOT   np.loads every file of WANT and GOT and exits non-zero unless the arrays
    are equal in dtype (byte order included), shape, order and values.
"""
import json
import os
import sys

import numpy as np


def arrays(v):
    rng = np.random.default_rng(v)
    n = rng.standard_normal
    return {
        'f16': n((8, 16)).astype('<f2'),
        'f32': n((32, 32)).astype('<f4'),
        'f64': n(100).astype('<f8'),
        'i8': rng.integers(-128, 128, 50).astype('i1'),
        'u8': rng.integers(0, 256, (4, 25)).astype('u1'),
        'bool': rng.integers(0, 2, 30).astype('?'),
        'i16': rng.integers(-999, 999, 40).astype('<i2'),
        'u32': rng.integers(0, 2**32, 20).astype('<u4'),
        'i64': rng.integers(-2**40, 2**40, (5, 6)).astype('<i8'),
        'f32_big': n(64).astype('>f4'),
        'i64_big': rng.integers(-2**40, 2**40, 10).astype('>i8'),
        'fortran': np.asfortranarray(n((16, 8)).astype('<f4')),
        'scalar': np.array(n(), dtype='<f8'),
        'c64': (n(12) + 1j * n(12)).astype('<c8'),
        'labels': np.array(['cat', 'dog', 'tortoise'] if v == 1 else ['ant', 'bee', 'cow']),
    }


def write(out):
    for v in ['v1', 'v2']:
        a = arrays(1 if v == 'v1' else 2)
        os.makedirs(f'{out}/{v}', exist_ok=True)
        for name, x in a.items():
            np.save(f'{out}/{v}/{name}.npy', x)
        np.savez(f'{out}/{v}/arrays.npz', **a)
        np.savez_compressed(f'{out}/{v}/compressed.npz', **a)
    print(json.dumps({k: [x.dtype.str, list(x.shape), bool(x.flags.f_contiguous and x.ndim > 1)]
                      for k, x in arrays(1).items()}))


def same(a, b, where):
    if a.dtype.str != b.dtype.str or a.shape != b.shape or not np.array_equal(a, b):
        raise SystemExit(f'{where}: differs')
    if a.flags.f_contiguous != b.flags.f_contiguous:
        raise SystemExit(f'{where}: another memory order')


def check(want, got):
    names = sorted(os.listdir(want))
    for name in names:
        a, b = np.load(f'{want}/{name}'), np.load(f'{got}/{name}')
        if name.endswith('.npz'):
            if a.files != b.files:
                raise SystemExit(f'{name}: arrays {b.files} where {a.files} were saved')
            for k in a.files:
                same(a[k], b[k], f'{name}:{k}')
        else:
            same(a, b, name)
    print(json.dumps({'checked': names}))


if sys.argv[1] == 'write':
    write(sys.argv[2])
else:
    check(sys.argv[2], sys.argv[3])
