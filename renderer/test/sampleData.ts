// Small, realistic host answers shared by the renderer tests.
import type { ModelEntry, RunSummary } from '../../shared/api';

export const models: ModelEntry[] = [
  { name: 'pix_resnet_tiny_cs', aliases: [], parameters: 75_000, macs: 5e6, pix: true },
  { name: 'resnet_tiny', aliases: [], parameters: 80_000, macs: 6e6, pix: false },
];

export function run(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    id: 'r1', name: 'digits-a', status: 'running', model: 'pix_resnet_tiny_cs', dataset: '', device: 'cpu', gpus: 1,
    epoch: 0, epochs: 2, step: 10, totalSteps: 300, bestAcc1: null, bestEmaAcc1: null, imagesPerSecond: 900,
    etaSeconds: 60, createdAt: 1_000, startedAt: 1_000, finishedAt: null, error: null, queuePosition: null, outputDir: '/runs/r1',
    ...overrides,
  };
}
