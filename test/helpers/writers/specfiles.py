"""GGUF and safetensors files from writers written here from each format's spec (ggml's docs/gguf.md,
huggingface/safetensors' README), independent of mvm's readers: neither format has a Debian writer.

Usage: python3 specfiles.py DIR   writes DIR/v1 and DIR/v2 (v2: every tensor's values and the metadata changed):
  llama.gguf         GGUF v3, default alignment (32): metadata of every value type (strings, arrays of strings
                     and floats, bool, ints of each width, floats), f32, f16, q8_0 and q4_0 tensors
  aligned.gguf       GGUF v3 with general.alignment = 64 (a u32 key-value) and the same tensors
  model.safetensors  F32, F16, BF16, I64, U8 and BOOL tensors and a __metadata__ map, header padded with
                     spaces to 8 bytes as the reference implementation pads it
  model-00001-of-00002.safetensors, model-00002-of-00002.safetensors, model.safetensors.index.json
                     a sharded checkpoint; the second shard's header is not padded
Prints, as JSON, what each file of v1 holds: {file: {"tensors": {name: [dtype, shape, norm]}, "metadata": {key: text},
"keys": N}} (metadata: the string and integer key-values, of the N in all),
shapes as each format writes them (GGUF: ne, innermost dimension first), norm the L2 norm of the values as stored
(null for quantized and bool tensors).
"""
import json
import os
import struct
import sys

import numpy as np

# --- GGUF (docs/gguf.md) ---
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)
SCALAR = {UINT8: '<B', INT8: '<b', UINT16: '<H', INT16: '<h', UINT32: '<I', INT32: '<i', FLOAT32: '<f',
          BOOL: '<?', UINT64: '<Q', INT64: '<q', FLOAT64: '<d'}
GGML_F32, GGML_F16, GGML_Q4_0, GGML_Q8_0 = 0, 1, 2, 8
GGML_NAMES = {GGML_F32: 'f32', GGML_F16: 'f16', GGML_Q4_0: 'q4_0', GGML_Q8_0: 'q8_0'}


def gguf_string(s):
    b = s.encode('utf-8')
    return struct.pack('<Q', len(b)) + b


def gguf_value(vtype, value):
    if vtype == STRING:
        return gguf_string(value)
    if vtype == ARRAY:
        item_type, items = value
        return struct.pack('<IQ', item_type, len(items)) + b''.join(gguf_value(item_type, v) for v in items)
    return struct.pack(SCALAR[vtype], value)


def q8_0(x):
    """Blocks of 32: an f16 scale d = max|x| / 127, then 32 int8 quants round(x / d)."""
    out = bytearray()
    for block in x.reshape(-1, 32):
        d = float(np.abs(block).max()) / 127 or 1.0
        out += np.float16(d).tobytes() + np.round(block / d).astype(np.int8).tobytes()
    return bytes(out)


def q4_0(x):
    """Blocks of 32: an f16 scale d = (the value of largest magnitude) / -8, then 16 bytes: the quant of
    element j in the low nibble and of element j + 16 in the high one, each clamp(round(x / d) + 8, 0, 15)."""
    out = bytearray()
    for block in x.reshape(-1, 32):
        m = block[np.argmax(np.abs(block))]
        d = float(m) / -8 or 1.0
        q = np.clip(np.round(block / d) + 8, 0, 15).astype(np.uint8)
        out += np.float16(d).tobytes() + (q[:16] | (q[16:] << 4)).tobytes()
    return bytes(out)


def norm(payload, dtype):
    """The L2 norm of a tensor's stored values; None for the dtypes it is not asked of."""
    if dtype in ('bf16', 'BF16'):
        values = (np.frombuffer(payload, '<u2').astype('<u4') << 16).view('<f4')
    else:
        numpy_dtype = {'f32': '<f4', 'f16': '<f2', 'F32': '<f4', 'F16': '<f2', 'I64': '<i8', 'U8': 'u1'}.get(dtype)
        if numpy_dtype is None:
            return None
        values = np.frombuffer(payload, numpy_dtype)
    return float(np.sqrt(np.sum(values.astype(np.float64) ** 2)))


def write_gguf(path, kvs, tensors, alignment=32):
    """kvs: [(key, type, value)]; tensors: [(name, ggml type, ne, data bytes)]."""
    head = b'GGUF' + struct.pack('<IQQ', 3, len(tensors), len(kvs))
    head += b''.join(gguf_string(k) + struct.pack('<I', t) + gguf_value(t, v) for k, t, v in kvs)
    offset, data = 0, b''
    for name, gtype, ne, payload in tensors:
        head += gguf_string(name) + struct.pack('<I', len(ne)) + b''.join(struct.pack('<Q', n) for n in ne)
        head += struct.pack('<IQ', gtype, offset)
        padded = payload + b'\0' * (-len(payload) % alignment)
        data += padded
        offset += len(padded)
    head += b'\0' * (-len(head) % alignment)
    with open(path, 'wb') as f:
        f.write(head + data)


def gguf_model(v, rng):
    n = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    emb, q, up, norm1, norm2 = n(32, 64), n(64, 64), n(16, 64), n(64), n(64)
    tensors = [
        ('token_embd.weight', GGML_F16, [64, 32], emb.astype('<f2').tobytes()),
        ('blk.0.attn_norm.weight', GGML_F32, [64], norm1.astype('<f4').tobytes()),
        ('blk.0.attn_q.weight', GGML_Q8_0, [64, 64], q8_0(q)),
        ('blk.0.ffn_up.weight', GGML_Q4_0, [64, 16], q4_0(up)),
        ('output_norm.weight', GGML_F32, [64], norm2.astype('<f4').tobytes()),
    ]
    kvs = [
        ('general.architecture', STRING, 'llama'),
        ('general.name', STRING, f'spec-written {v}'),
        ('general.file_type', UINT32, 7),
        ('llama.context_length', UINT32, 2048),
        ('llama.rope.freq_base', FLOAT32, 10000.0),
        ('llama.attention.layer_norm_rms_epsilon', FLOAT64, 1e-5),
        ('llama.use_parallel_residual', BOOL, True),
        ('tokenizer.ggml.bos_token_id', INT32, -1 if v == 'v1' else 1),
        ('test.u8', UINT8, 200), ('test.i8', INT8, -100), ('test.u16', UINT16, 60000), ('test.i16', INT16, -30000),
        ('test.u64', UINT64, 2**40), ('test.i64', INT64, -2**40),
        ('tokenizer.ggml.tokens', ARRAY, (STRING, ['<s>', '</s>', 'héllo', ''])),
        ('tokenizer.ggml.scores', ARRAY, (FLOAT32, [0.0, -1.5, 2.25, 3.0])),
        ('test.nested', ARRAY, (ARRAY, [(INT16, [1, 2]), (INT16, [])])),
    ]
    return kvs, tensors


# --- safetensors (https://github.com/huggingface/safetensors: "Format") ---
def write_safetensors(path, tensors, metadata=None, pad=True):
    """tensors: [(name, dtype, shape, data bytes)]; data in the order given, offsets relative to the data start."""
    header, offset = {}, 0
    for name, dtype, shape, payload in tensors:
        header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [offset, offset + len(payload)]}
        offset += len(payload)
    if metadata is not None:
        header['__metadata__'] = metadata
    text = json.dumps(header, separators=(',', ':')).encode()
    if pad:
        text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(p for _, _, _, p in tensors))


def bf16(x):
    return (x.astype('<f4').view('<u4') >> 16).astype('<u2').tobytes()


def safetensors_model(rng):
    n = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    return [
        ('model.embed.weight', 'BF16', [40, 16], bf16(n(40, 16))),
        ('model.layers.0.attn.weight', 'F16', [16, 16], n(16, 16).astype('<f2').tobytes()),
        ('model.layers.0.mlp.weight', 'F32', [32, 16], n(32, 16).astype('<f4').tobytes()),
        ('model.layers.0.mlp.bias', 'F32', [32], n(32).astype('<f4').tobytes()),
        ('model.position_ids', 'I64', [1, 24], rng.integers(0, 1000, (1, 24)).astype('<i8').tobytes()),
        ('model.quant.zeros', 'U8', [48], rng.integers(0, 256, 48).astype('u1').tobytes()),
        ('model.mask', 'BOOL', [3, 5], rng.integers(0, 2, (3, 5)).astype('?').tobytes()),
    ]


def main(out):
    result = {}
    for v in ['v1', 'v2']:
        os.makedirs(f'{out}/{v}', exist_ok=True)
        rng = np.random.default_rng(1 if v == 'v1' else 2)
        kvs, tensors = gguf_model(v, rng)
        write_gguf(f'{out}/{v}/llama.gguf', kvs, tensors)
        write_gguf(f'{out}/{v}/aligned.gguf', kvs + [('general.alignment', UINT32, 64)], tensors, alignment=64)
        st = safetensors_model(rng)
        meta = {'format': 'pt', 'written_by': f'specfiles.py {v}'}
        write_safetensors(f'{out}/{v}/model.safetensors', st, meta)
        shards = {'model-00001-of-00002.safetensors': st[:4], 'model-00002-of-00002.safetensors': st[4:]}
        for i, (name, part) in enumerate(shards.items()):
            write_safetensors(f'{out}/{v}/{name}', part, {'format': 'pt'} if i == 0 else None, pad=i == 0)
        with open(f'{out}/{v}/model.safetensors.index.json', 'w') as f:
            json.dump({'metadata': {'total_size': sum(len(t[3]) for t in st)},
                       'weight_map': {t[0]: name for name, part in shards.items() for t in part}}, f)
        if v == 'v1':
            g = {name: [GGML_NAMES[gtype], ne, norm(p, GGML_NAMES[gtype])] for name, gtype, ne, p in tensors}
            gmeta = {k: str(value) for k, t, value in kvs if t in (STRING, UINT32, INT32, UINT64, INT64, INT8, UINT8)}
            result['llama.gguf'] = {'tensors': g, 'metadata': gmeta, 'keys': len(kvs)}
            aligned = {**gmeta, 'general.alignment': '64'}
            result['aligned.gguf'] = {'tensors': g, 'metadata': aligned, 'keys': len(kvs) + 1}
            s = lambda part: {name: [dtype, shape, norm(p, dtype)] for name, dtype, shape, p in part}
            result['model.safetensors'] = {'tensors': s(st), 'metadata': meta, 'keys': len(meta)}
            for i, (name, part) in enumerate(shards.items()):
                result[name] = {'tensors': s(part), 'metadata': {'format': 'pt'} if i == 0 else {}, 'keys': 1 - i}
    print(json.dumps(result))


main(sys.argv[1])
