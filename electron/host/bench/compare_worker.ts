// The throughput comparison's child process: builds every requested model once, and for each batch
// size warms each up, then times one step per model per repeat, interleaved (A, B, A, B, …) so
// that drift of the machine (clock, heat, other load) hits every model alike. Reports the models'
// names and sizes once built, then each timed step as it happens. With `profile`, each model then
// runs a few more steps with its parts timed (Model.profile), outside the timed ones. Uses the step
// of bench/throughput.ts.
import type { ThroughputPart } from '../../../shared/api';
import { loadEngine, type Model } from '../engine/addon';
import { oneHotTargets, profileParts, step, syntheticImages, type BenchMode } from './throughput';

export interface CompareRequest {
  models: string[];
  device: string;
  precision: 'fp32' | 'bf16';
  mode: BenchMode;
  batchSizes: number[];
  inputSize: number;
  repeats: number;
  profile?: boolean;
}

/** A requested model as the engine built it: `requested` may be an alias of `name`. */
export interface BuiltModel {
  requested: string;
  name: string;
  parameters: number;
  macs: number;
}

export type CompareMessage =
  | { type: 'models'; models: BuiltModel[] }
  | { type: 'sample'; model: string; batchSize: number; repeat: number; seconds: number }
  | { type: 'parts'; model: string; batchSize: number; parts: ThroughputPart[] }
  | { type: 'done' }
  | { type: 'error'; error: string };

const WARMUP_STEPS = 2;
/** Profiled steps per model and batch size: the per-part times are means over these. */
const PROFILE_STEPS = 3;

async function compare(request: CompareRequest, send: (m: CompareMessage) => void): Promise<void> {
  const engine = loadEngine();
  // As benchmark() does: on a GPU the precision is the activations' dtype; on the CPU the matrix products'.
  const onCuda = request.device !== 'cpu';
  if (!onCuda) engine.setCpuPrecision(request.precision);
  const models: { requested: string; model: Model }[] = request.models.map((name) => ({ requested: name,
    model: new engine.Model(name, onCuda ? { device: request.device, activations: request.precision === 'bf16' ? 'bf16' : 'f32' } : {}) }));
  send({ type: 'models', models: models.map(({ requested, model }) => ({ requested, name: model.name, parameters: model.parameterCount, macs: model.macs(request.inputSize) })) });
  for (const batchSize of request.batchSizes) {
    const hostImages = syntheticImages(batchSize, request.inputSize);
    const x = onCuda ? hostImages.to(models[0]!.model.device) : hostImages;
    const inputs = models.map(({ model }) => ({ model, targets: oneHotTargets(batchSize, model.numClasses),
      optimizer: new engine.Optimizer(model, { type: 'momentum', momentum: 0.9 }) }));
    for (const { model, targets, optimizer } of inputs) {
      for (let i = 0; i < WARMUP_STEPS; i++) await step(model, request.mode, x, targets, optimizer);
    }
    for (let repeat = 0; repeat < request.repeats; repeat++) {
      for (const [i, { model, targets, optimizer }] of inputs.entries()) {
        const start = process.hrtime.bigint();
        await step(model, request.mode, x, targets, optimizer);
        send({ type: 'sample', model: models[i]!.requested, batchSize, repeat, seconds: Number(process.hrtime.bigint() - start) / 1e9 });
      }
    }
    if (request.profile) {
      for (const [i, { model, targets, optimizer }] of inputs.entries())
        send({ type: 'parts', model: models[i]!.requested, batchSize, parts: await profileParts(model, request.mode, x, targets, optimizer, PROFILE_STEPS) });
    }
    // Each batch size makes its own optimizers: the last one's momentum would otherwise stay on the device.
    for (const { targets, optimizer } of inputs) {
      targets.dispose();
      optimizer.dispose();
    }
    x.dispose();
  }
  send({ type: 'done' });
}

process.once('message', (request: CompareRequest) => {
  const send = (message: CompareMessage) => {
    if (process.connected) process.send!(message);
  };
  compare(request, send).then(
    () => process.exit(0),
    (error: unknown) => {
      if (process.connected) process.send!({ type: 'error', error: error instanceof Error ? error.message : String(error) }, () => process.exit(1));
      else process.exit(1);
    },
  );
});
