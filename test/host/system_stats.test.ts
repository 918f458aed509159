// System stats: nvidia-smi's CSV read with unknown fields as null, and a sample of this machine.
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { describe, it } from 'node:test';
import { parseNvidiaSmi, SystemMonitor } from '../../electron/host/system_stats';

describe('system stats', () => {
  it('reads nvidia-smi rows, unknown values as null', () => {
    assert.deepEqual(parseNvidiaSmi('0, NVIDIA H100 80GB HBM3, 37, 1024, 81559\n1, NVIDIA H100, [N/A], [N/A], 81559\n'), [
      { index: 0, name: 'NVIDIA H100 80GB HBM3', utilizationPercent: 37, memoryUsedBytes: 1024 * 2 ** 20, memoryTotalBytes: 81559 * 2 ** 20 },
      { index: 1, name: 'NVIDIA H100', utilizationPercent: null, memoryUsedBytes: null, memoryTotalBytes: 81559 * 2 ** 20 },
    ]);
  });

  it('samples CPU load and memory of this machine', async () => {
    const stats = await new SystemMonitor().sample();
    assert.equal(stats.cores, cpus().length);
    assert.ok(stats.cpuPercent >= 0 && stats.cpuPercent <= 100);
    assert.ok(stats.memoryUsedBytes > 0 && stats.memoryUsedBytes <= stats.memoryTotalBytes);
    assert.ok(Array.isArray(stats.gpus));
  });
});
