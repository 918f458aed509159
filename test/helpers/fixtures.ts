// Access to the PyTorch-generated fixtures in test/fixtures (see scripts/fixtures/generate.py).
import { join } from 'node:path';
import { readSafetensors, type SafetensorsFile } from '../../electron/host/checkpoints/safetensors';

export const fixturesDir = join(__dirname, '..', '..', '..', 'test', 'fixtures');

export function readFixture(name: string): SafetensorsFile {
  return readSafetensors(join(fixturesDir, name));
}
