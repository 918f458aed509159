// NCCL with two ranks, each a process with its own device (test/helpers/nccl_collectives_rank.ts):
// the all-reduce must give every rank the exact sum of both ranks' values (f32, and bf16 summed in
// f32 and rounded once), the broadcasts rank 1's values, and the model-level calls the averaged
// gradients with the extras summed (also when the averaging overlaps the backward: backwardAllReduce)
// and rank 1's state; a rank's abort must make its peer's next
// collective fail instead of hang. Runs where NCCL and two CUDA devices are usable: on the CUDA
// emulator (PIX_CUDA_EMULATOR_DEVICES=2 is set for the ranks) with its NCCL stand-in, or on a
// machine with two GPUs. Skips, printing why, elsewhere.
import assert from 'node:assert/strict';
import { fork, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { engineInfo, loadEngine } from '../../electron/host/engine/addon';
import { twoRankNcclSkipReason } from '../helpers/cuda';
import { LONG, ncclInput, type RankResult } from '../helpers/nccl_collectives_rank';

const engine = loadEngine();
const emulated = engineInfo().backends.cuda.emulated === true;

const skip = twoRankNcclSkipReason();

function runRank(rank: number, id: Buffer): Promise<RankResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, '..', 'helpers', 'nccl_collectives_rank.js'), [], {
      env: { ...process.env, PIX_RANK: String(rank), PIX_NCCL_ID: id.toString('hex'), PIX_CUDA_EMULATOR_DEVICES: '2', PIX_NUM_THREADS: '1' },
    });
    child.once('message', (report: RankResult | { error: string }) => ('error' in report ? reject(new Error(`rank ${rank}: ${report.error}`)) : resolve(report)));
    child.once('exit', (code) => { if (code !== 0) reject(new Error(`rank ${rank} exited with code ${code}`)); });
  });
}

/** f32 to bf16, round to nearest even (no NaN among the test's values), back as a number. */
function bf16(value: number): number {
  const bits = new Uint32Array(new Float32Array([value]).buffer);
  bits[0] = (bits[0]! + 0x7fff + ((bits[0]! >>> 16) & 1)) & 0xffff0000;
  return new Float32Array(bits.buffer)[0]!;
}

describe('NCCL with two ranks', { skip }, () => {
  it('sums, broadcasts, averages gradients and broadcasts model state exactly; an abort reaches the peer', { timeout: 10 * 60_000 }, async () => {
    const id = engine.ncclUniqueId();
    const [r0, r1] = await Promise.all([runRank(0, id), runRank(1, id)]);
    const [in0, in1] = [ncclInput(0), ncclInput(1)];

    const f32Sum = Array.from(in0, (v, i) => Math.fround(v + in1[i]!));
    assert.equal(r0!.f32Sum.length, LONG);
    assert.deepEqual(r0!.f32Sum, f32Sum, 'rank 0 holds the f32 sum');
    assert.deepEqual(r1!.f32Sum, f32Sum, 'rank 1 holds the f32 sum');
    const bf16Sum = r0!.bf16Input.map((v, i) => bf16(Math.fround(v + r1!.bf16Input[i]!)));
    assert.notDeepEqual(r0!.bf16Input, r1!.bf16Input);
    assert.deepEqual(r0!.bf16Sum, bf16Sum, 'rank 0 holds the bf16 sum, rounded once');
    assert.deepEqual(r1!.bf16Sum, bf16Sum, 'rank 1 holds the bf16 sum, rounded once');

    for (const r of [r0!, r1!]) {
      assert.deepEqual(r.f32FromRoot1, Array.from(in1), 'f32 broadcast from root 1');
      assert.deepEqual(r.bf16FromRoot1, r1!.bf16Input, 'bf16 broadcast from root 1');
    }

    assert.notDeepEqual(r0!.localGradients, r1!.localGradients, 'the ranks\' gradients differ before the all-reduce');
    const averaged = r0!.localGradients.map((g, k) => g.map((v, i) => Math.fround(Math.fround(v + r1!.localGradients[k]![i]!) * 0.5)));
    assert.deepEqual(r0!.averagedGradients, averaged, 'rank 0\'s gradients averaged');
    assert.deepEqual(r1!.averagedGradients, averaged, 'rank 1\'s gradients averaged');
    assert.deepEqual(r0!.extras, [3, 0.5, -1]);
    assert.deepEqual(r1!.extras, [3, 0.5, -1]);
    for (const r of [r0!, r1!]) {
      assert.deepEqual(r.overlappedGradients, averaged, 'overlapped with the backward: the same average, bit for bit');
      assert.deepEqual(r.overlappedExtras, [3, 0.5, -1]);
    }

    assert.notDeepEqual(r0!.stateBefore, r1!.stateBefore, 'the models start apart (other seeds)');
    assert.deepEqual(r0!.stateFromRoot1, r1!.stateBefore, 'rank 0 holds rank 1\'s state');
    assert.deepEqual(r1!.stateFromRoot1, r1!.stateBefore, 'rank 1 keeps its state');

    assert.match(r0!.afterAbort!, /ncclAllReduce: remote process exited or there was a network error \(ncclAllReduce: rank 1 aborted the communicator\)/);
  });

  it('on the CUDA emulator, opens its own NCCL stand-in and refuses any other library', { skip: !emulated && 'the engine is not the CUDA emulator' }, () => {
    assert.match(engine.ncclLibraryStatus().path!, /nccl\/lib\/libnccl\.so\.2$/);
    // Another libnccl.so.2 named by NCCL_ROOT (here the engine itself: a library without the marker).
    const root = mkdtempSync(join(tmpdir(), 'pix-not-nccl-'));
    mkdirSync(join(root, 'lib'));
    symlinkSync(engineInfo().addonPath, join(root, 'lib', 'libnccl.so.2'));
    const addon = join(__dirname, '..', '..', 'electron', 'host', 'engine', 'addon.js');
    const child = spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(addon)}).loadEngine().ncclLibraryStatus().reason)`],
      { env: { ...process.env, NCCL_ROOT: root }, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, / is not the CUDA emulator's stand-in: this engine runs CUDA on the CPU and would hand a real NCCL host memory/);
  });
});
