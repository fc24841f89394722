// The machine a run is on, for the report's header and the JSON record.
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { GiB } from './format.mjs';
import { sh } from './proc.mjs';

function machineInfo() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  let disk = '';
  try {
    const df = sh('df', ['-T', '/tmp']).trim().split('\n').pop().split(/\s+/);
    const dev = df[0].replace('/dev/', '').replace(/[0-9]+$/, '');
    let rot = '';
    try {
      rot =
        readFileSync(`/sys/block/${dev}/queue/rotational`, 'utf8').trim() === '1'
          ? ', rotational=1 (as reported by the VM)'
          : ', rotational=0';
    } catch {
      /* unknown */
    }
    disk = `${df[0]} ${df[1]}${rot}`;
  } catch {
    /* unknown */
  }
  let zstdVersion = '';
  try {
    zstdVersion = sh('zstd', ['--version']).trim();
  } catch {
    /* none */
  }
  let load = '';
  try {
    load = readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ');
  } catch {
    /* none */
  }
  return {
    date: sh('date', ['-u']).trim(),
    nproc: Number(sh('nproc', []).trim()),
    cpu: model,
    memGiB: +(totalmem() / GiB).toFixed(1),
    disk,
    node: process.version,
    zstd: zstdVersion,
    loadAvgAtStart: load,
    command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  };
}
export { machineInfo };
