/**
 * A TFLite model of 200 constant f32 tensors with names of about 150
 * characters, as converters write them (a long scope shared by every name,
 * a block per layer): what `show --tensors` and `diff` must keep readable.
 */
import { prng } from './data.js';
import { writeTflite } from './formats/tflite.js';

/** The scope every name starts with. */
export const SCOPE = 'functional_transformer_model_with_a_rather_long_scope_name/encoder_stack/';
export const BLOCKS = 20;
export const PER_BLOCK = 10;

/** The name of tensor `j` of block `b`: about 150 characters, grouped by block in `diff` and `show`. */
export function longName(b: number, j: number): string {
  return `${SCOPE}block_${b}/multi_head_self_attention_and_feed_forward_sublayers/kernel_weights_part_${j}`;
}

/** f32 [16, 16] values of one tensor (1 KiB). */
function values(seed: number): Buffer {
  const r = prng(seed);
  return Buffer.from(Float32Array.from({ length: 256 }, () => r() - 0.5).buffer);
}

/** The model: seed 1's values, except in blocks below `changedBlocks`, which take `seed`'s. */
export function longNameModel(seed = 1, changedBlocks = BLOCKS): Buffer {
  const tensors = [];
  for (let b = 0; b < BLOCKS; b++)
    for (let j = 0; j < PER_BLOCK; j++)
      tensors.push({
        name: longName(b, j),
        type: 0,
        shape: [16, 16],
        data: values((b < changedBlocks ? seed : 1) * 100_000 + b * PER_BLOCK + j + 1),
      });
  return writeTflite(tensors);
}
