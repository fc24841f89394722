/**
 * A tiny ONNX model that real runtimes load (y = x + W, W a float[2] initializer), and a run of it with
 * onnxruntime-node: commands/export-serving and commands/follow serve it.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { pbBytes, pbVarint } from './modelWriters.js';

const FLOAT = 1;

/** A typed float[2] value: name and shape, as graph inputs and outputs need. */
function valueInfo(name: string): Buffer {
  const dim = pbBytes(1, pbVarint(1, 2));
  const tensorType = Buffer.concat([pbVarint(1, FLOAT), pbBytes(2, dim)]);
  return Buffer.concat([pbBytes(1, Buffer.from(name)), pbBytes(2, pbBytes(1, tensorType))]);
}

/** An ONNX model computing y = Add(x, W) with W a float[2] initializer. */
export function addModel(w: [number, number]): Buffer {
  const raw = Buffer.alloc(8);
  raw.writeFloatLE(w[0], 0);
  raw.writeFloatLE(w[1], 4);
  const init = Buffer.concat([pbVarint(1, 2), pbVarint(2, FLOAT), pbBytes(8, Buffer.from('W')), pbBytes(9, raw)]);
  const node = Buffer.concat([
    pbBytes(1, Buffer.from('x')),
    pbBytes(1, Buffer.from('W')),
    pbBytes(2, Buffer.from('y')),
    pbBytes(3, Buffer.from('add0')),
    pbBytes(4, Buffer.from('Add')),
  ]);
  const graph = Buffer.concat([
    pbBytes(1, node),
    pbBytes(2, Buffer.from('g')),
    pbBytes(5, init),
    pbBytes(11, valueInfo('x')),
    pbBytes(12, valueInfo('y')),
  ]);
  return Buffer.concat([
    pbVarint(1, 8),
    pbBytes(2, Buffer.from('mvm-test')),
    pbBytes(7, graph),
    pbBytes(8, Buffer.concat([pbBytes(1, Buffer.from('')), pbVarint(2, 17)])),
  ]);
}

export async function runModel(path: string): Promise<number[]> {
  const session = await ort.InferenceSession.create(readFileSync(path));
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 1]), [2]) });
  return Array.from(out.y!.data as Float32Array);
}
