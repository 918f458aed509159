// createHost through the contract on a temporary home, with the real engine and workers: config
// refusals that name the field, the demo preset for data_path '', a small real run to completion
// with its events, series, export and checkpoints, and the checkpoint tools on what it saved
// (inspect, histogram, diff, evaluate, gates, classify, convert). Paths from clients are checked.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRequest, type RunSummary, type WorkbenchEvent } from '../../shared/api';
import { createHost, workbenchHome, type Host } from '../../electron/host/api';
import { DEMO_DATASET } from '../../electron/host/train/demo_preset';
import { smallDigits } from '../helpers/small_digits';

const digits = smallDigits();
const tiny = { model: 'pix_resnet_tiny_cs', data_path: digits, input_size: 28, batch_size: 25, epochs: 2, opt: 'momentum', lr: 0.05,
  warmup_epochs: 0, aa: 'none', reprob: 0, mixup: 0, cutmix: 0, hflip: 0, scale: [0.6, 1], test_freq: 1, num_workers: 0, seed: 1 };

describe('createHost', () => {
  let host: Host;
  const events: { event: WorkbenchEvent; payload: unknown; at: number }[] = [];
  before(() => {
    host = createHost({ home: mkdtempSync(join(tmpdir(), 'pix-home-')) });
    for (const event of ['runUpdated', 'runIterations', 'runEpoch', 'runLog', 'runDeleted'] as const) {
      host.on(event, (payload) => events.push({ event, payload, at: Date.now() }));
    }
  });
  after(() => host.close());

  const until = async (id: string, wanted: (s: RunSummary) => boolean) => {
    for (let i = 0; i < 3000; i++) {
      const run = (await host.api.listRuns()).find((s) => s.id === id)!;
      if (wanted(run)) return run;
      if (run.status === 'failed') throw new Error(`run ${id} failed: ${run.error}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`run ${id} never got there`);
  };

  it('resolves the home from the option, PIX_WORKBENCH_HOME, then XDG_DATA_HOME', () => {
    const saved = { ...process.env };
    try {
      process.env.PIX_WORKBENCH_HOME = '/tmp/a';
      assert.equal(workbenchHome('/tmp/b'), '/tmp/b');
      assert.equal(workbenchHome(), '/tmp/a');
      delete process.env.PIX_WORKBENCH_HOME;
      process.env.XDG_DATA_HOME = '/tmp/xdg';
      assert.equal(workbenchHome(), '/tmp/xdg/pix-workbench');
    } finally {
      process.env = saved;
    }
  });

  it('refuses a bad config before anything starts, naming each field', async () => {
    const request = parseRequest('startRun', { config: { lr: -1, bogus: 1, data_path: 'relative/path', model: 'nope' } });
    await assert.rejects(host.api.startRun(request), (error: Error) => {
      for (const field of ['lr:', 'bogus: not a run flag']) assert.ok(error.message.includes(field), error.message);
      return true;
    });
    await assert.rejects(host.api.startRun({ config: { ...tiny, mixup: 0.8, batch_size: 25, model: 'nope', data_path: '/nonexistent' } }),
      /batch_size: --batch_size 25: Mixup\/CutMix pair each image with another.*model: unknown model 'nope'.*data_path: data path \/nonexistent is not a folder/);
    await assert.rejects(host.api.startRun({ config: { ...tiny, batch_size: 400 } }), /batch_size: 300 training images are fewer than one effective batch of 400/);
    assert.deepEqual(await host.api.listRuns(), []);
  });

  it("applies the demo preset for data_path '' and stops a running run cleanly", async () => {
    // num_workers 0: decoding threads are the loader's business, not what this test is about.
    const run = await host.api.startRun({ name: 'demo', config: { epochs: 1, num_workers: 0 } });
    const detail = await host.api.getRun({ id: run.id });
    assert.equal(detail.dataset, '');
    assert.equal(detail.config.data_path, DEMO_DATASET);
    assert.deepEqual([detail.config.model, detail.config.input_size, detail.config.epochs, detail.config.aa], ['pix_resnet_tiny_cs', 28, 1, 'none']);
    assert.equal(detail.outputDir, detail.config.output_dir);
    await until(run.id, (s) => s.step >= 1);
    assert.equal((await host.api.stopRun({ id: run.id })).status, 'stopping');
    const stopped = await until(run.id, (s) => s.status === 'stopped');
    assert.equal(stopped.error, null);
    assert.ok((await host.api.getRun({ id: run.id })).checkpoints.some((c) => c.name.startsWith('checkpoint-')));
    await host.api.deleteRun({ id: run.id });
    await assert.rejects(host.api.getRun({ id: run.id }), /no run with id/);
  });

  it('trains a small run to completion, then inspects, diffs, evaluates and converts what it saved', async () => {
    const run = await host.api.startRun({ name: 'tiny', config: tiny });
    const done = await until(run.id, (s) => s.status === 'completed');
    assert.deepEqual([done.epoch, done.step, done.totalSteps], [2, 24, 24]);
    assert.ok(done.bestAcc1 !== null && done.bestAcc1 >= 0);
    const mine = events.filter((e) => (e.payload as { id: string }).id === run.id);
    assert.equal(mine.filter((e) => e.event === 'runEpoch').length, 2);
    assert.ok(mine.some((e) => e.event === 'runLog'));
    const iterations = mine.filter((e) => e.event === 'runIterations');
    assert.equal(iterations.flatMap((e) => (e.payload as { points: unknown[] }).points).length, 24);
    for (let i = 1; i < iterations.length; i++) assert.ok(iterations[i]!.at - iterations[i - 1]!.at >= 150, 'batched, not per step');

    const detail = await host.api.getRun({ id: run.id });
    assert.deepEqual(detail.epochRecords.map((r) => r.epoch), [0, 1]);
    const series = await host.api.runSeries({ id: run.id, metric: 'loss', axis: 'step', maxPoints: 10 });
    assert.deepEqual([series.totalPoints, series.x.length, series.x[0], series.x.at(-1)], [24, 10, 0, 23]);
    const csv = await host.api.exportRuns({ ids: [run.id], format: 'csv' });
    const rows = csv.text.trim().split('\n');
    assert.equal(rows.length, 25);
    assert.ok(rows[0]!.startsWith('run_id,epoch,step,time,loss'));
    assert.ok(rows[1]!.startsWith(`${run.id},0,0,`));
    const json = JSON.parse((await host.api.exportRuns({ ids: [run.id], format: 'json' })).text) as { runs: { config: { lr: number }; epochs: unknown[]; iterations: unknown[] }[] };
    assert.deepEqual([json.runs[0]!.config.lr, json.runs[0]!.epochs.length, json.runs[0]!.iterations.length], [0.05, 2, 24]);

    const checkpoint = (name: string) => detail.checkpoints.find((c) => c.name === name)!.path;
    const info = await host.api.inspectCheckpoint({ path: checkpoint('checkpoint-1') });
    assert.deepEqual([info.format, info.model, info.classes, info.metadata.epoch], ['safetensors', 'pix_resnet_tiny_cs', 10, '1']);
    const histogram = await host.api.tensorHistogram({ path: checkpoint('checkpoint-1'), name: 'classifier.bias', bins: 4 });
    assert.equal(histogram.counts.reduce((a, b) => a + b, 0), 10);
    const diff = await host.api.diffCheckpoints({ a: checkpoint('checkpoint-0'), b: checkpoint('checkpoint-1') });
    assert.ok(diff.changed.length > 0 && diff.onlyInA.length === 0);

    const evaluation = await host.api.evaluateCheckpoint({ path: checkpoint('checkpoint-1'), dataPath: digits });
    assert.equal(evaluation.images, 100);
    const onFolder = await host.api.evaluateCheckpoint({ path: checkpoint('checkpoint-1'), dataPath: join(digits, 'val') });
    assert.deepEqual([onFolder.images, onFolder.acc1, onFolder.loss], [100, evaluation.acc1, evaluation.loss], 'an image folder evaluates as val/');
    assert.ok(Math.abs(evaluation.acc1 - (detail.epochRecords[1]!.test_acc1 as number)) < 1e-9, 'the same top-1 as the run logged');

    const gates = await host.api.gateStatistics({ path: checkpoint('checkpoint-1'), dataPath: digits, images: 20 });
    assert.equal(gates.images, 20);
    assert.deepEqual(await host.api.gateStatistics({ path: checkpoint('checkpoint-1'), dataPath: join(digits, 'val'), images: 20 }), gates);
    assert.deepEqual(gates.blocks.map((b) => b.block), ['layer1.blocks.0', 'layer1.blocks.1', 'layer2.blocks.0', 'layer2.blocks.1', 'layer3.blocks.0', 'layer4.blocks.0']);
    for (const block of gates.blocks) {
      assert.equal(block.histogram.counts.reduce((a, b) => a + b, 0), 20 * block.subsets);
      assert.ok(block.pickFraction >= 0 && block.pickFraction <= 1);
    }
    const digit = join(digits, 'val', '7', readdirSync(join(digits, 'val', '7'))[0]!);
    const byFile = await host.api.classifyImage({ path: checkpoint('checkpoint-1'), image: { file: digit } });
    const byUpload = await host.api.classifyImage({ path: checkpoint('checkpoint-1'), image: { base64: readFileSync(digit).toString('base64') } });
    assert.deepEqual(byUpload, byFile);
    assert.equal(byFile.top5.length, 5);
    assert.ok(byFile.top5[0]!.className !== null, 'class names come from the training data');
    assert.equal(byFile.blocks[0]!.gate.length, 16);
    assert.deepEqual(byFile.blocks[0]!.picked, byFile.blocks[0]!.gate.map((p) => p < 0.5));

    const pth = join(mkdtempSync(join(tmpdir(), 'pix-convert-')), 'model.pth');
    const converted = await host.api.convertCheckpoint({ from: checkpoint('checkpoint-1'), to: pth });
    assert.ok(converted.bytes > 0);
    assert.equal((await host.api.inspectCheckpoint({ path: pth })).model, 'pix_resnet_tiny_cs');
    await assert.rejects(host.api.deleteRun({ id: 'x/../..' }), /is not a run id/);
  });

  it('checks paths from clients', async () => {
    await assert.rejects(host.api.inspectCheckpoint({ path: 'relative.pth' }), /path: 'relative.pth' must be an absolute path/);
    await assert.rejects(host.api.inspectCheckpoint({ path: '/nonexistent/x.pth' }), /path: \/nonexistent\/x.pth does not exist/);
    await assert.rejects(host.api.inspectCheckpoint({ path: tmpdir() }), /is not a file/);
    await assert.rejects(host.api.convertCheckpoint({ from: '/nonexistent/a.pth', to: '/tmp/b.pth' }), /from: .* does not exist/);
    assert.deepEqual(await host.api.checkDataset({ path: 'data' }), { ok: false, path: 'data', problem: "path: 'data' must be an absolute path" });
    const demo = await host.api.checkDataset({ path: '' });
    assert.ok(demo.ok && demo.classes === 10 && demo.trainImages > 1000);
    const missing = await host.api.checkDataset({ path: '/nonexistent' });
    assert.ok(!missing.ok && /is not a folder/.test(missing.problem));
    const folder = await host.api.checkDataset({ path: join(digits, 'val') });
    assert.deepEqual(folder.ok && [folder.dataSet, folder.classes, folder.trainImages, folder.valImages], ['image_folder', 10, 100, 100]);
    const neither = await host.api.checkDataset({ path: join(digits, 'val', '7') });
    assert.ok(!neither.ok && /none of the layouts .* ImageNet layout .* an image folder .* or CIFAR-100's files/.test(neither.problem), JSON.stringify(neither));
  });
});
