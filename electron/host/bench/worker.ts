// One benchmark in its own process, so that each model's peak memory is its own. Receives
// BenchOptions on the IPC channel, replies with the result and the process's peak RSS.
import { benchmark, type BenchOptions } from './throughput';

process.once('message', (options: BenchOptions) => {
  benchmark(options).then(
    (result) => process.send!({ ok: true, result, peakRssBytes: process.resourceUsage().maxRSS * 1024 }),
    (error: unknown) => process.send!({ ok: false, error: error instanceof Error ? error.message : String(error) }),
  );
});
