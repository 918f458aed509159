// `pix bench`: images/s of several networks on synthetic data, side by side, with the PiX/ResNet
// ratio. Each (model, mode) runs in its own process so its peak memory is its own. --profile adds
// the milliseconds each part of each network takes per step (stem, every block, head).
import { parseArgs } from 'node:util';
import { partLabel } from '../../../shared/parts';
import { benchmarkIsolated, type IsolatedBenchResult } from '../../host/bench/isolated';
import type { BenchMode, BenchPart, CudaPaths } from '../../host/bench/throughput';
import { engineInfo, type CpuPrecision } from '../../host/engine/addon';
import type { Command } from '../command';

function positiveInt(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got '${text}'`);
  return value;
}

function ratioLines(results: IsolatedBenchResult[]): { mode: BenchMode; pix: string; resnet: string; ratio: number }[] {
  const out = [];
  for (const mode of ['train', 'infer'] as const) {
    const pix = results.find((r) => r.mode === mode && r.model.startsWith('pix_'));
    const resnet = results.find((r) => r.mode === mode && r.model.startsWith('resnet'));
    if (pix && resnet) out.push({ mode, pix: pix.model, resnet: resnet.model, ratio: pix.imagesPerSecond / resnet.imagesPerSecond });
  }
  return out;
}

/**
 * Per-part milliseconds of each model in one mode, side by side (forward + backward in training),
 * with the total, and with two models the second's time over the first's per part.
 */
function profileTable(mode: BenchMode, results: IsolatedBenchResult[]): string[] {
  const profiled = results.filter((r) => r.mode === mode && r.parts);
  if (profiled.length === 0) return [];
  const time = (p: BenchPart) => p.forwardMs + p.backwardMs;
  const cell = (p: BenchPart | undefined) =>
    (p === undefined ? '' : mode === 'train' ? `${p.forwardMs.toFixed(1)} + ${p.backwardMs.toFixed(1)}` : p.forwardMs.toFixed(1)).padStart(18);
  const pair = profiled.length === 2;
  const rows = Math.max(...profiled.map((r) => r.parts!.length));
  const lines = [`${mode === 'train' ? 'train step, ms (forward + backward)' : 'inference, ms'} per part:`,
    'part'.padEnd(12) + profiled.map((r) => r.model.padStart(18)).join('') + (pair ? `${profiled[1]!.model} / ${profiled[0]!.model}`.padStart(34) : '')];
  for (let i = 0; i < rows; i++) {
    const parts = profiled.map((r) => r.parts![i]);
    const label = partLabel(parts.find((p) => p)!.name);
    const ratio = pair && parts[0] && parts[1] && time(parts[0]) > 0 ? `${(time(parts[1]) / time(parts[0])).toFixed(2)}x`.padStart(34) : '';
    lines.push(label.padEnd(12) + parts.map(cell).join('') + ratio);
  }
  const totals = profiled.map((r) => r.parts!.reduce((sum, p) => sum + time(p), 0));
  lines.push('total'.padEnd(12) + totals.map((t) => t.toFixed(1).padStart(18)).join('') +
    (pair && totals[0]! > 0 ? `${(totals[1]! / totals[0]!).toFixed(2)}x`.padStart(34) : ''));
  return lines;
}

/** "cuDNN ran 150 of 159 convolution directions (9 on the own path); CUDA graphs: 1 made, 55 replays". */
function describeCudaPaths({ convDirections: conv, fused, graphs }: CudaPaths): string {
  const own = conv.own > 0 ? ` (${conv.own} on the own path)` : '';
  const refused = fused.refused > 0 ? `, ${fused.refused} refused: ${fused.firstRefusal}` : '';
  const fusedText = fused.ran + fused.refused > 0 ? `; fused conv+bias+ReLU: ${fused.ran} ran${refused}` : '';
  const failed = graphs.failures > 0 ? `, ${graphs.failures} failed: ${graphs.lastFailure}` : '';
  return `cuDNN ran ${conv.cudnn} of ${conv.cudnn + conv.own} convolution directions${own}${fusedText}; ` +
    `CUDA graphs: ${graphs.captures} made, ${graphs.replays} replays${failed}`;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'Measure images/s of networks on synthetic data (train step and inference)',
  usage: 'pix bench [--models pix_resnet50_cs,resnet50] [--device cpu] [--batch_size 16] [--input_size 224] ' +
    '[--mode train|infer|both] [--precision fp32|bf16] [--warmup 2] [--repeats 5] [--profile] [--json]',
  async run(args) {
    const { values } = parseArgs({
      args, strict: true,
      options: {
        models: { type: 'string', default: 'pix_resnet50_cs,resnet50' },
        device: { type: 'string', default: 'cpu' },
        batch_size: { type: 'string', default: '16' },
        input_size: { type: 'string', default: '224' },
        mode: { type: 'string', default: 'both' },
        precision: { type: 'string', default: 'fp32' },
        warmup: { type: 'string', default: '2' },
        repeats: { type: 'string', default: '5' },
        profile: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    if (!['train', 'infer', 'both'].includes(values.mode)) throw new Error(`--mode must be train, infer or both, got '${values.mode}'`);
    if (values.precision !== 'fp32' && values.precision !== 'bf16') {
      throw new Error(`--precision must be fp32 or bf16, got '${values.precision}'`);
    }
    const precision: CpuPrecision = values.precision;
    // Without avx512_bf16 the engine rounds to bf16 all the same but multiplies on the f32 kernels:
    // the numbers of bf16, not its speed.
    const { cpu, cuda } = engineInfo().backends;
    if (values.device === 'cpu' && precision === 'bf16' && !cpu.features.includes('avx512_bf16')) {
      console.error('note: this CPU lacks avx512_bf16, so bf16 is emulated on the f32 kernels (no speed-up expected)');
    }
    if (values.device !== 'cpu' && cuda.emulated) {
      console.error('note: this engine is the CUDA emulator (a test build): CUDA runs on the CPU, so these timings say nothing about a GPU');
    }
    const modes: BenchMode[] = values.mode === 'both' ? ['train', 'infer'] : [values.mode as BenchMode];
    const models = values.models.split(',').map((m) => m.trim()).filter(Boolean);
    const common = {
      device: values.device, batchSize: positiveInt('batch_size', values.batch_size),
      inputSize: positiveInt('input_size', values.input_size), warmup: positiveInt('warmup', values.warmup),
      repeats: positiveInt('repeats', values.repeats), precision, profile: values.profile,
    };
    const results: IsolatedBenchResult[] = [];
    for (const mode of modes) {
      for (const model of models) {
        const result = await benchmarkIsolated({ ...common, model, mode });
        results.push(result);
        if (!values.json) {
          console.log(`${mode.padEnd(5)} ${result.model.padEnd(20)} ${result.imagesPerSecond.toFixed(2).padStart(9)} images/s  ` +
            `(${(result.stepSeconds * 1000).toFixed(0)} ms/step, peak ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MiB)`);
          if (result.cuda) console.log(`      ${describeCudaPaths(result.cuda)}`);
        }
      }
    }
    const ratios = ratioLines(results);
    if (values.json) {
      console.log(JSON.stringify({ ...common, results, ratios }, null, 2));
    } else {
      for (const r of ratios) console.log(`${r.mode}: ${r.pix} / ${r.resnet} = ${r.ratio.toFixed(2)}x`);
      for (const mode of modes) {
        const table = profileTable(mode, results);
        if (table.length) console.log(['', ...table].join('\n'));
      }
    }
    return 0;
  },
};
