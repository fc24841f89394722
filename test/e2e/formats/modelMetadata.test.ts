/** diff and show of a model's own metadata: safetensors __metadata__, GGUF key-values, ONNX props. */
import { describe, expect, it } from 'vitest';
import { readModelMetadata } from '../../../src/core/formats/metadata.js';
import { bufferSource } from '../../../src/core/formats/types.js';
import { mvm, testdir } from '../../helpers/cli.js';
import { json, ok, write } from '../../helpers/assertions.js';
import { GGML, pbBytes, writeGguf, writeOnnx, writeSafetensors } from '../../helpers/modelWriters.js';

const weights = (n: number) => Buffer.alloc(64 * 4, n);

function st(meta: Record<string, string>): Buffer {
  return writeSafetensors([{ name: 'w', dtype: 'F32', shape: [64], data: weights(1) }], meta);
}
function gguf(meta: Record<string, string | number | string[]>): Buffer {
  return writeGguf({ metadata: meta, tensors: [{ name: 'w', type: GGML.F32, dims: [64], data: weights(2) }] });
}
function onnx(props: Record<string, string>): Buffer {
  const model = writeOnnx([{ name: 'w', dataType: 1, dims: [64], raw: weights(3) }]);
  // ModelProto.metadata_props = 14: StringStringEntryProto { key = 1, value = 2 }, appended as protobuf allows
  return Buffer.concat([
    model,
    ...Object.entries(props).map(([k, v]) =>
      pbBytes(14, Buffer.concat([pbBytes(1, Buffer.from(k)), pbBytes(2, Buffer.from(v))])),
    ),
  ]);
}

describe('model metadata', () => {
  it('is read from each format, bounded, never throwing', async () => {
    expect(await readModelMetadata(bufferSource(st({ framework: 'pt', epoch: '3' })))).toEqual({
      format: 'safetensors',
      metadata: { framework: 'pt', epoch: '3' },
    });
    const g = await readModelMetadata(
      bufferSource(
        gguf({ 'general.name': 'tiny', 'tokenizer.ggml.tokens': ['a', 'b', 'c'], 'llama.context_length': 4096 }),
      ),
    );
    expect(g).toEqual({
      format: 'gguf',
      metadata: { 'general.name': 'tiny', 'tokenizer.ggml.tokens': '[3 × string]', 'llama.context_length': '4096' },
    });
    const o = await readModelMetadata(bufferSource(onnx({ author: 'me', license: 'mit' })));
    expect(o?.format).toBe('onnx');
    expect(o?.metadata).toMatchObject({
      producer_name: 'mvm-test',
      'metadata_props.author': 'me',
      'metadata_props.license': 'mit',
      ir_version: '8',
    });
    expect(await readModelMetadata(bufferSource(Buffer.from('not a model at all, just text')))).toBeNull();
    const long = await readModelMetadata(bufferSource(st({ notes: 'x'.repeat(5000) })));
    expect(long!.metadata.notes!.length).toBeLessThan(300);
  });

  it("diff names the metadata keys that changed; show lists each model file's metadata", () => {
    const t = testdir();
    try {
      const run = (args: string[]) => mvm(args, { cwd: t.dir });
      write(t.path('m/a.safetensors'), st({ framework: 'pt', epoch: '3' }));
      write(t.path('m/b.gguf'), gguf({ 'general.name': 'tiny', 'llama.context_length': 2048 }));
      write(t.path('m/c.onnx'), onnx({ stage: 'dev' }));
      ok(run(['init']));
      ok(run(['add', 'm']));
      ok(run(['commit', '-m', 'v1']));
      write(t.path('m/a.safetensors'), st({ framework: 'pt', epoch: '4', note: 'new' }));
      write(t.path('m/b.gguf'), gguf({ 'general.name': 'tiny', 'llama.context_length': 4096 }));
      write(t.path('m/c.onnx'), onnx({}));
      // before the commit, HEAD against the workspace already names the same keys
      const ws = json<{ files: { path: string; metadata?: unknown[] }[] }>(run(['diff', '--json']));
      expect(Object.fromEntries(ws.files.map((f) => [f.path, f.metadata]))).toEqual({
        'm/a.safetensors': [
          { key: 'epoch', from: '3', to: '4' },
          { key: 'note', from: null, to: 'new' },
        ],
        'm/b.gguf': [{ key: 'llama.context_length', from: '2048', to: '4096' }],
        'm/c.onnx': [{ key: 'metadata_props.stage', from: 'dev', to: null }],
      });
      expect(ok(run(['diff'])).stdout).toContain('    metadata epoch: "3" -> "4"');
      ok(run(['commit', '-m', 'v2']));
      const d = json<{
        files: { path: string; metadata?: { key: string; from: string | null; to: string | null }[] }[];
      }>(run(['diff', 'v1', 'v2', '--json']));
      const meta = Object.fromEntries(d.files.map((f) => [f.path, f.metadata]));
      expect(meta['m/a.safetensors']).toEqual([
        { key: 'epoch', from: '3', to: '4' },
        { key: 'note', from: null, to: 'new' },
      ]);
      expect(meta['m/b.gguf']).toEqual([{ key: 'llama.context_length', from: '2048', to: '4096' }]);
      expect(meta['m/c.onnx']).toEqual([{ key: 'metadata_props.stage', from: 'dev', to: null }]);
      const text = ok(run(['diff', 'v1', 'v2'])).stdout;
      expect(text).toContain('    metadata epoch: "3" -> "4"');
      expect(text).toContain('    metadata metadata_props.stage: "dev" -> (removed)');
      const shown = json<{ models: Record<string, { format: string; metadata: Record<string, string> }> }>(
        run(['show', 'v2', '--json']),
      );
      expect(shown.models['m/a.safetensors']).toEqual({
        format: 'safetensors',
        metadata: { framework: 'pt', epoch: '4', note: 'new' },
      });
      expect(shown.models['m/b.gguf']!.metadata['llama.context_length']).toBe('4096');
      expect(ok(run(['show', 'v1'])).stdout).toContain(
        'm/a.safetensors (safetensors metadata):\n    framework: pt\n    epoch: 3',
      );
    } finally {
      t.cleanup();
    }
  });
});
