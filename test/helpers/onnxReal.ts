/** ONNX models written by the onnx package itself (test/helpers/onnxfixtures.py), for the ONNX reader's tests. */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Python with the onnx package: Debian's python3 (python3-onnx), or MVM_ONNX_PYTHON. */
export const ONNX_PYTHON = process.env.MVM_ONNX_PYTHON ?? '/usr/bin/python3';

/**
 * Writes branches.onnx, swapped.onnx (its If branches in the other order) and wider.onnx (one more Constant in
 * front) into `dir`, each checked by onnx.checker, and returns, per file, the name each in-file tensor should
 * have and its raw bytes in hex.
 */
export function onnxFixtures(dir: string): Record<string, Record<string, string>> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'onnxfixtures.py');
  return JSON.parse(execFileSync(ONNX_PYTHON, [script, dir], { encoding: 'utf8' })) as Record<
    string,
    Record<string, string>
  >;
}
