// A stand-in host for the serve-mode tests: a few methods with recognisable answers and an event
// emitter the test fires by hand. The transport is under test here, not the host.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary, WorkbenchApi, WorkbenchClient, WorkbenchEvent, WorkbenchEvents } from '../../../shared/api';

export interface FakeHost extends WorkbenchClient {
  emit<E extends WorkbenchEvent>(event: E, payload: WorkbenchEvents[E]): void;
  listenerCount(): number;
  /** Requests the host received, in order, after validation. */
  calls: { method: string; request: unknown }[];
}

export function createFakeHost(): FakeHost {
  const listeners = new Map<WorkbenchEvent, Set<(payload: unknown) => void>>();
  const calls: FakeHost['calls'] = [];
  const api = {
    async listModels() {
      calls.push({ method: 'listModels', request: undefined });
      return [{ name: 'pix_resnet50_cs', aliases: ['PiXResNet50_cs'], parameters: 1, macs: 2, pix: true }];
    },
    async getRun(request: { id: string }) {
      calls.push({ method: 'getRun', request });
      throw new Error(`no run '${request.id}'`);
    },
    async stopRun(request: { id: string }) {
      calls.push({ method: 'stopRun', request });
      return { id: request.id, status: 'stopping' } as RunSummary;
    },
  } as unknown as WorkbenchApi;
  return {
    api,
    calls,
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener as (payload: unknown) => void);
      return () => set.delete(listener as (payload: unknown) => void);
    },
    emit(event, payload) {
      for (const listener of listeners.get(event) ?? []) listener(payload);
    },
    listenerCount() {
      return [...listeners.values()].reduce((sum, set) => sum + set.size, 0);
    },
  };
}

/** A miniature renderer bundle, with a secret beside it and a symlink pointing at the secret. */
export function makeRendererBundle(): { root: string; secret: string } {
  const base = mkdtempSync(join(tmpdir(), 'pix-serve-'));
  const root = join(base, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>PiX Workbench</title><script type="module" src="./assets/app.js"></script>');
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log("app");\n');
  const secret = join(base, 'secret.txt');
  writeFileSync(secret, 'not for the browser');
  symlinkSync(secret, join(root, 'assets', 'link-out.txt'));
  return { root, secret };
}
