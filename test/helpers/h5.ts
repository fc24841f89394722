/** HDF5 and .keras fixtures written by h5py (test/helpers/h5fixtures.py), for the tests of those formats. */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One dataset as h5py reports it: its names, NumPy dtype, shape, and where HDF5 stores it (null unless contiguous). */
export interface H5Dataset {
  names: string[];
  dtype: string;
  shape: number[];
  where: { offset: number; size: number } | null;
}

/** The Python with h5py: Debian's python3 (scripts/ensure-tools.sh installs python3-h5py), or MVM_H5_PYTHON. */
export const H5_PYTHON = process.env.MVM_H5_PYTHON ?? '/usr/bin/python3';

/**
 * Writes earliest.h5, latest.h5, dense.h5, model.keras and deflated.keras
 * into `dir` (weights drawn from `seed`; `changed` names a weight drawn
 * differently) and returns h5py's account of every dataset of each file.
 */
export function h5Fixtures(dir: string, seed: number, changed?: string): Record<string, H5Dataset[]> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'h5fixtures.py');
  const out = execFileSync(H5_PYTHON, [script, dir, String(seed), ...(changed ? [changed] : [])], { encoding: 'utf8' });
  return JSON.parse(out) as Record<string, H5Dataset[]>;
}
