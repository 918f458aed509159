// `pix info [--json]`: the engine's version and backends (CPU threads and SIMD; CUDA build,
// devices and libraries).
import { parseArgs } from 'node:util';
import type { EngineInfo } from '../../../shared/engine';
import { engineInfo } from '../../host/engine/addon';
import type { Command } from '../command';

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

export function formatInfo(info: EngineInfo): string {
  const { cpu, cuda } = info.backends;
  const lines = [
    `PiX engine ${info.version}`,
    `addon     ${info.addonPath}`,
    `cpu       ${cpu.threads} thread${cpu.threads === 1 ? '' : 's'}, SIMD ${cpu.simd}` +
      (cpu.features.length ? ` (${cpu.features.join(', ')})` : ''),
  ];
  if (!cuda.compiled) {
    lines.push('cuda      not compiled into this build');
  } else {
    lines.push(`cuda      compiled (runtime ${cuda.runtimeVersion}, driver ${cuda.driverVersion ?? 'none'}, ` +
      `architectures ${cuda.architectures.join(',')})`);
    if (cuda.emulated) lines.push('          emulated on the CPU: a test build, for results, not for speed');
    lines.push(`          cuDNN ${yesNo(cuda.cudnn)}, cuBLAS ${yesNo(cuda.cublas)}, NCCL ${yesNo(cuda.nccl)}`);
    if (cuda.gemm) lines.push(`          matrix products: ${cuda.gemm}${cuda.gemmTf32 ? ', TF32 allowed' : ''}`);
    if (cuda.conv) lines.push(`          convolutions: ${cuda.conv}`);
    if (cuda.ncclLibrary && !cuda.nccl) lines.push(`          NCCL: ${cuda.ncclLibrary}`);
    for (const d of cuda.devices) {
      const gib = (d.totalMemoryBytes / 2 ** 30).toFixed(1);
      lines.push(`          cuda:${d.index} ${d.name} (compute ${d.capability}, ${d.multiprocessors} SMs, ${gib} GiB)`);
    }
    if (cuda.devices.length === 0) lines.push(`          no device: ${cuda.unavailableReason}`);
  }
  return lines.join('\n');
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'Show the engine version and its CPU and CUDA backends',
  usage: 'pix info [--json]',
  async run(args) {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, strict: true });
    const info = engineInfo();
    console.log(values.json ? JSON.stringify(info, null, 2) : formatInfo(info));
    return 0;
  },
};
