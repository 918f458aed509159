// The throughput page's pure helpers: the default model pair, the batch list, the bars and their
// whiskers, the per-block rows of a profiled comparison, and the histogram's steps.
import { describe, expect, it } from 'vitest';
import type { ThroughputReport } from '../../../shared/api';
import { histogramSteps } from '../../src/components/inspector/HistogramChart';
import { partLabel } from '../../../shared/parts';
import { partRows } from '../../src/components/throughput/PartsChart';
import { defaultModels, parseBatchSizes, parseWhole } from '../../src/components/throughput/ThroughputForm';
import { imagesPerSecondAxis, throughputBars } from '../../src/components/throughput/ThroughputResults';
import { models } from '../sampleData';

describe('defaultModels', () => {
  it('takes the published pair when the host has it, else the first PiX and the first plain network', () => {
    const published = [...models, { ...models[0], name: 'pix_resnet50_cs' }, { ...models[1], name: 'resnet50' }];
    expect(defaultModels(published)).toEqual(['pix_resnet50_cs', 'resnet50']);
    expect(defaultModels(models)).toEqual(['pix_resnet_tiny_cs', 'resnet_tiny']);
    expect(defaultModels([])).toEqual([]);
  });
});

describe('parseBatchSizes', () => {
  it('reads sizes separated by spaces or commas and names the entry that is not one', () => {
    expect(parseBatchSizes('16, 32 64')).toEqual({ sizes: [16, 32, 64], problem: null });
    expect(parseBatchSizes('16 x')).toEqual({ sizes: [], problem: '"x" is not a batch size (a whole number ≥ 1)' });
    expect(parseBatchSizes('0').problem).toMatch(/"0"/);
    expect(parseBatchSizes('  ').problem).toBe('at least one batch size is needed');
  });
});

describe('parseWhole', () => {
  it('takes a whole number within the schema\'s bounds and names the bounds otherwise', () => {
    const inputSize = { minValue: 32, maxValue: 1024 };
    expect(parseWhole(' 224 ', inputSize)).toEqual({ value: 224, problem: null });
    // Before, 'abc' reached the schema and came back as "inputSize: expected number, received NaN".
    expect(parseWhole('abc', inputSize).problem).toBe('a whole number from 32 to 1,024');
    expect(parseWhole('16', inputSize).problem).not.toBeNull();
    expect(parseWhole('64.5', inputSize).problem).not.toBeNull();
  });
});

describe('throughputBars', () => {
  it('orders bars by batch size and gives each whisker as distances below and above the median', () => {
    const m = (model: string, batchSize: number, min: number, median: number, max: number) =>
      ({ model, batchSize, samples: [], min, median, max, latencyMs: 1, parameters: 1, macs: 1 });
    const report: ThroughputReport = {
      id: 't', startedAt: 0, finishedAt: 1, device: 'cpu', precision: 'fp32', mode: 'infer', inputSize: 32, error: null,
      measurements: [m('resnet_tiny', 16, 90, 100, 120), m('pix_resnet_tiny_cs', 8, 40, 50, 55)],
      ratios: [{ batchSize: 8, pix: 'pix_resnet_tiny_cs', resnet: 'resnet_tiny', speedup: 0.5, macRatio: 1.02 }],
    };
    expect(throughputBars(report, new Set())).toEqual([
      { label: 'pix_resnet_tiny_cs · b8', median: 50, spread: [10, 5], pix: true },
      { label: 'resnet_tiny · b16', median: 100, spread: [10, 20], pix: false },
    ]);
    const unpaired = { ...report, ratios: [] };
    expect(throughputBars(unpaired, new Set(['pix_resnet_tiny_cs'])).map((b) => b.pix)).toEqual([true, false]);
  });

  it('holds the place of a model still being timed with an empty bar marked as measuring', () => {
    const report: ThroughputReport = {
      id: 't', startedAt: 0, finishedAt: null, device: 'cpu', precision: 'fp32', mode: 'infer', inputSize: 32, error: null,
      measurements: [{ model: 'pix_resnet_tiny_cs', batchSize: 8, samples: [], min: 40, median: 50, max: 55, latencyMs: 1, parameters: 1, macs: 1 }],
      ratios: [],
    };
    const measuring = [{ model: 'resnet_tiny', batchSize: 8 }, { model: 'pix_resnet_tiny_cs', batchSize: 16 }];
    expect(throughputBars(report, new Set(['pix_resnet_tiny_cs']), measuring)).toEqual([
      { label: 'pix_resnet_tiny_cs · b8', median: 50, spread: [10, 5], pix: true },
      { label: 'resnet_tiny · b8 · measuring…', median: null, spread: null, pix: false },
      { label: 'pix_resnet_tiny_cs · b16 · measuring…', median: null, spread: null, pix: true },
    ]);
  });

  it('puts the images/s axis on round ticks from 0 past the longest whisker', () => {
    const m = (max: number) => ({ model: 'resnet_tiny', batchSize: 8, samples: [], min: 400, median: 600, max, latencyMs: 1, parameters: 1, macs: 1 });
    const report: ThroughputReport = {
      id: 't', startedAt: 0, finishedAt: 1, device: 'cpu', precision: 'fp32', mode: 'infer', inputSize: 32, error: null,
      measurements: [m(698), m(1232)], ratios: [],
    };
    const axis = imagesPerSecondAxis(report);
    expect(axis.ticks.map(axis.format)).toEqual(['0', '500', '1,000', '1,500']);
    expect(axis.domain).toEqual([0, 1500]);
  });
});

describe('partRows', () => {
  it('puts each model\'s forward + backward milliseconds of a part on one row, PiX and ResNet blocks together', () => {
    const parts = (scale: number, block: string) => [
      { name: 'stem', forwardMs: 1 * scale, backwardMs: 2 * scale },
      { name: block, forwardMs: 3 * scale, backwardMs: 4 * scale },
      { name: 'head', forwardMs: 0.5 * scale, backwardMs: 0.25 * scale },
    ];
    const m = (model: string, batchSize: number, profile?: ReturnType<typeof parts>) =>
      ({ model, batchSize, samples: [], min: 1, median: 1, max: 1, latencyMs: 1, parameters: 1, macs: 1, ...(profile ? { parts: profile } : {}) });
    const report: ThroughputReport = {
      id: 't', startedAt: 0, finishedAt: 1, device: 'cpu', precision: 'fp32', mode: 'train', inputSize: 32, error: null,
      measurements: [m('pix_resnet_tiny_cs', 8, parts(1, 'layer1.blocks.0')), m('resnet_tiny', 8, parts(2, 'layer1.0')), m('resnet_tiny', 16)],
      ratios: [],
    };
    expect(partRows(report, 8)).toEqual({
      models: ['pix_resnet_tiny_cs', 'resnet_tiny'],
      rows: [
        { part: 'stem', pix_resnet_tiny_cs: 3, resnet_tiny: 6 },
        { part: 'layer1.0', pix_resnet_tiny_cs: 7, resnet_tiny: 14 },
        { part: 'head', pix_resnet_tiny_cs: 0.75, resnet_tiny: 1.5 },
      ],
    });
    expect(partRows(report, 16)).toEqual({ models: [], rows: [] });
    expect(partLabel('layer3.blocks.12')).toBe('layer3.12');
  });
});

describe('histogramSteps', () => {
  it('starts each step at its bin\'s left edge and closes the last bin at the last edge', () => {
    expect(histogramSteps({ edges: [0, 1, 2], counts: [3, 5] })).toEqual([{ x: 0, count: 3 }, { x: 1, count: 5 }, { x: 2, count: 5 }]);
  });
});
