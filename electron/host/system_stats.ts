// The machine's load for the workbench's status bar: CPU % over the interval since the previous
// sample (from os.cpus() time deltas), memory in use, and per GPU its utilisation and memory from
// nvidia-smi when that tool is installed (none: an empty list, not an error). Sampling is cheap;
// the monitor only runs while someone listens to systemStats.
import { execFile } from 'node:child_process';
import { cpus, freemem, totalmem } from 'node:os';
import type { SystemStats } from '../../shared/api';

type CpuTimes = { idle: number; total: number };

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

const NVIDIA_QUERY = ['--query-gpu=index,name,utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'];
const MIB = 1024 * 1024;

function parseNumber(text: string | undefined): number | null {
  const value = Number(text?.trim());
  return text === undefined || text.trim() === '' || !Number.isFinite(value) ? null : value;
}

/** nvidia-smi's CSV rows: index, name, utilisation %, memory used MiB, memory total MiB ('[N/A]' where unknown). */
export function parseNvidiaSmi(csv: string): SystemStats['gpus'] {
  return csv.split('\n').filter((l) => l.trim()).map((line) => {
    const [index, name, util, used, total] = line.split(',').map((f) => f.trim());
    const usedMiB = parseNumber(used);
    const totalMiB = parseNumber(total);
    return { index: Number(index), name: name ?? '', utilizationPercent: parseNumber(util),
      memoryUsedBytes: usedMiB === null ? null : usedMiB * MIB, memoryTotalBytes: totalMiB === null ? null : totalMiB * MIB };
  });
}

export class SystemMonitor {
  private previous = cpuTimes();
  private nvidiaSmi = true;

  async sample(): Promise<SystemStats> {
    const now = cpuTimes();
    const total = now.total - this.previous.total;
    const cpuPercent = total > 0 ? (100 * (total - (now.idle - this.previous.idle))) / total : 0;
    this.previous = now;
    return {
      time: Date.now(), cpuPercent, cores: cpus().length,
      memoryUsedBytes: totalmem() - freemem(), memoryTotalBytes: totalmem(),
      gpus: await this.gpus(),
    };
  }

  private gpus(): Promise<SystemStats['gpus']> {
    if (!this.nvidiaSmi) return Promise.resolve([]);
    return new Promise((resolve) => {
      execFile('nvidia-smi', NVIDIA_QUERY, { timeout: 5000 }, (error, stdout) => {
        if (error) {
          // Not installed: never ask again. Installed but failing (driver reloading): ask next time.
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') this.nvidiaSmi = false;
          resolve([]);
          return;
        }
        resolve(parseNvidiaSmi(stdout));
      });
    });
  }
}
