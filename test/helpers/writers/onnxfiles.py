"""ONNX models written by onnx.save itself (Debian's python3-onnx), and their check after a round trip.

Usage:
  python3 onnxfiles.py write DIR   writes DIR/v1 and DIR/v2 (v2: every weight moved, as by a training step), each with
      plain/model.onnx              every tensor inside the model
      one/model.onnx, one/weights.bin   save_as_external_data, all_tensors_to_one_file: the tensors of 1 KiB
                                    or more in weights.bin
      many/model.onnx + one file per tensor of 1 KiB or more (all_tensors_to_one_file=False)
    The graph: MatMul by an initializer, Add of a Constant node's value and of an initializer, MatMul by a
    Constant's value, MatMul by another initializer, an If whose then and else branches each hold a
    Constant of the same tensor name, and a Reshape by an int64 initializer. Prints, as JSON, for each
    variant its tensors: {variant: {"inside": [[name, kind, dtype, shape], ...],
    "external": {file: [[name, dtype, shape, offset, length], ...]}}}, kind "initializer" or "constant".
  python3 onnxfiles.py check WANT GOT   for each variant: onnx.checker.check_model on GOT's model path, then
    onnx.load of both (external data included) and every tensor equal; exits non-zero otherwise.
"""
import copy
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

VARIANTS = ['plain', 'one', 'many']
DTYPES = {TensorProto.FLOAT: 'f32', TensorProto.INT64: 'i64', TensorProto.FLOAT16: 'f16'}


def graph(shift):
    rng = np.random.default_rng(0)

    def weights(*shape):
        return (rng.standard_normal(shape) * 0.1 + shift).astype(np.float32)

    w1, b1, proj, w2 = weights(64, 64), weights(64), weights(64, 64), weights(64, 32)
    c0, then_k, else_k = weights(1, 64), weights(32), weights(32)
    inits = [numpy_helper.from_array(w1, 'W1'), numpy_helper.from_array(b1, 'B1'),
             numpy_helper.from_array(w2, 'W2'), numpy_helper.from_array(np.array([4, 8], np.int64), 'S')]
    if shift:
        inits[3] = numpy_helper.from_array(np.array([8, 4], np.int64), 'S')

    def branch(name, op, k):
        const = helper.make_node('Constant', [], [f'{name}_k'], value=numpy_helper.from_array(k, 'k'))
        node = helper.make_node(op, ['h4', f'{name}_k'], [f'{name}_out'])
        out = helper.make_tensor_value_info(f'{name}_out', TensorProto.FLOAT, [1, 32])
        return helper.make_graph([const, node], f'{name}_branch', [], [out])

    nodes = [
        helper.make_node('MatMul', ['x', 'W1'], ['h1']),
        helper.make_node('Constant', [], ['c0_out'], value=numpy_helper.from_array(c0, 'c0_value')),
        helper.make_node('Add', ['h1', 'c0_out'], ['h2']),
        helper.make_node('Add', ['h2', 'B1'], ['h3']),
        helper.make_node('Constant', [], ['proj_out'], value=numpy_helper.from_array(proj, 'proj_value')),
        helper.make_node('MatMul', ['h3', 'proj_out'], ['h3p']),
        helper.make_node('MatMul', ['h3p', 'W2'], ['h4']),
        helper.make_node('If', ['flag'], ['y'], then_branch=branch('then', 'Add', then_k),
                         else_branch=branch('else', 'Mul', else_k)),
        helper.make_node('Reshape', ['y', 'S'], ['z']),
    ]
    g = helper.make_graph(
        nodes, 'writers', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 64]),
                           helper.make_tensor_value_info('flag', TensorProto.BOOL, [])],
        [helper.make_tensor_value_info('z', TensorProto.FLOAT, ['a', 'b'])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)], producer_name='onnxfiles.py')


def all_tensors(g, kind=None):
    """(tensor, kind) for the initializers and attribute tensors of g and its subgraphs."""
    for t in g.initializer:
        yield t, 'initializer'
    for n in g.node:
        for a in n.attribute:
            if a.HasField('t'):
                yield a.t, 'constant'
            for sub in [a.g] if a.HasField('g') else list(a.graphs):
                yield from all_tensors(sub)


def describe(model):
    inside, external = [], {}
    for t, kind in all_tensors(model.graph):
        dtype, shape = DTYPES[t.data_type], list(t.dims)
        if t.data_location == TensorProto.EXTERNAL:
            info = {e.key: e.value for e in t.external_data}
            external.setdefault(info['location'], []).append(
                [t.name, dtype, shape, int(info.get('offset', 0)), int(info['length'])])
        else:
            inside.append([t.name, kind, dtype, shape])
    return {'inside': inside, 'external': external}


def write(out):
    listing = {}
    for version, shift in [('v1', 0.0), ('v2', 0.5)]:
        model = graph(shift)
        onnx.checker.check_model(model)
        for variant in VARIANTS:
            os.makedirs(f'{out}/{version}/{variant}', exist_ok=True)
            path = f'{out}/{version}/{variant}/model.onnx'
            m = copy.deepcopy(model)
            if variant == 'plain':
                onnx.save(m, path)
            else:
                onnx.save(m, path, save_as_external_data=True, all_tensors_to_one_file=variant == 'one',
                          location='weights.bin', size_threshold=1024)
            if version == 'v1':
                listing[variant] = describe(onnx.load(path, load_external_data=False))
    print(json.dumps(listing))


def tensors_of(path):
    return {f'{kind}:{t.name}:{i}': numpy_helper.to_array(t)
            for i, (t, kind) in enumerate(all_tensors(onnx.load(path).graph))}


def check(want, got):
    for variant in VARIANTS:
        path = f'{got}/{variant}/model.onnx'
        onnx.checker.check_model(path)
        a, b = tensors_of(f'{want}/{variant}/model.onnx'), tensors_of(path)
        if list(a) != list(b):
            raise SystemExit(f'{variant}: tensors {list(b)} where {list(a)} were saved')
        for k in a:
            if a[k].dtype != b[k].dtype or a[k].shape != b[k].shape or not np.array_equal(a[k], b[k]):
                raise SystemExit(f'{variant}: {k} differs')
    print(json.dumps({'checked': VARIANTS}))


if sys.argv[1] == 'write':
    write(sys.argv[2])
else:
    check(sys.argv[2], sys.argv[3])
