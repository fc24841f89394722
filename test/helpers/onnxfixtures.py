"""ONNX models written by the onnx package (onnx.helper, onnx.save), for the ONNX reader's tests.

Usage: onnxfixtures.py DIR. Writes into DIR:
  branches.onnx  an initializer, two Constant nodes (one whose tensor has a name of its own), an If whose
                 two branches each hold an initializer `k` and a Constant `branch_val`, and a Loop whose
                 body holds a Constant
  swapped.onnx   the same model with the If's branch attributes the other way round (onnx.helper sorts them)
  wider.onnx     the same model with one more Constant node in front
Each passes onnx.checker. Prints JSON: for each file, the name the reader should give each in-file tensor
(by the naming of docs/FORMAT.md) and its raw bytes in hex, in the order they lie in the file.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def arr(seed, shape, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def const(output, value, tensor_name=""):
    return helper.make_node("Constant", [], [output], value=numpy_helper.from_array(value, tensor_name))


def branch(tag, seed):
    k = numpy_helper.from_array(arr(seed, [3]), "k")
    nodes = [
        const("branch_val", arr(seed + 1, [3])),
        helper.make_node("Add", ["branch_val", "k"], [f"{tag}_sum"]),
        helper.make_node("Add", [f"{tag}_sum", "x"], [f"{tag}_out"]),
    ]
    out = helper.make_tensor_value_info(f"{tag}_out", TensorProto.FLOAT, [3])
    return helper.make_graph(nodes, f"{tag}_graph", [], [out], initializer=[k])


def model(swapped=False, wider=False):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [3])
    nodes = []
    if wider:
        nodes.append(const("extra", arr(9, [5])))
    nodes += [
        const("scale", arr(1, [3])),
        # a tensor named on its own: the graph knows its value as `shift`
        const("shift", arr(2, [3], np.float16), tensor_name="const_tensor"),
        helper.make_node("Mul", ["x", "scale"], ["xs"]),
    ]
    gate = helper.make_node(
        "If", ["cond"], ["y"], name="gate", then_branch=branch("then", 10), else_branch=branch("else", 20)
    )
    if swapped:
        attrs = {a.name: a for a in gate.attribute}
        del gate.attribute[:]
        gate.attribute.extend([attrs["then_branch"], attrs["else_branch"]])
    nodes.append(gate)
    body = helper.make_graph(
        [
            const("step", arr(30, [3])),
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Add", ["acc_in", "step"], ["acc_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [3]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [3]),
        ],
    )
    nodes += [
        const("trip", np.array(2, dtype=np.int64)),
        helper.make_node("Loop", ["trip", "cond", "xs"], ["z"], body=body),
    ]
    w = numpy_helper.from_array(arr(3, [4, 4]), "w")
    graph = helper.make_graph(nodes, "g", [x, cond], [y, z], initializer=[w])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(m, full_check=True)
    return m


def expected(m):
    """Reader's name -> raw bytes, per docs/FORMAT.md: Constants by output, subgraph tensors scoped by node."""
    out = {}

    def walk(graph, scope):
        for t in graph.initializer:
            out[scope + t.name] = t.raw_data.hex()
        for node in graph.node:
            for a in node.attribute:
                scoped = f"{node.name or node.output[0]}/{a.name}"
                if a.type == onnx.AttributeProto.TENSOR:
                    name = (node.output[0] or node.name) if node.op_type == "Constant" else scoped
                    out[scope + name] = a.t.raw_data.hex()
                elif a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g, f"{scope}{scoped}/")

    walk(m.graph, "")
    return out


def main():
    d = sys.argv[1]
    report = {}
    models = {"branches.onnx": model(), "swapped.onnx": model(swapped=True), "wider.onnx": model(wider=True)}
    for file, m in models.items():
        path = os.path.join(d, file)
        onnx.save(m, path)
        onnx.checker.check_model(path)
        report[file] = expected(onnx.load(path))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
