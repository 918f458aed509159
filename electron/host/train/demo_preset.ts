// `pix train` without --data_path trains on the embedded digits (resources/demo-digits). The
// official defaults target ImageNet on 8 GPUs; for 10,000 28x28 digits on a laptop CPU these
// values (shared/presets.ts, also the New-run form's demo preset) replace every default the user
// did not set explicitly.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig, RunFlagName } from '../../../shared/config';
import { demoDigitsValues } from '../../../shared/presets';
import { DatasetFlagError } from '../data/datasets';

/**
 * In a packaged app the digits are plain files beside the archive (electron-builder.yml's
 * extraResources: libvips reads images by path and cannot see inside app.asar); in a checkout they
 * are under resources/, written by `npm install`.
 */
function demoDatasetPath(): string {
  const packaged = (process as { resourcesPath?: string }).resourcesPath;
  if (packaged && existsSync(join(packaged, 'demo-digits'))) return join(packaged, 'demo-digits');
  return join(__dirname, '..', '..', '..', '..', 'resources', 'demo-digits');
}

export const DEMO_DATASET = demoDatasetPath();

export function applyDemoPreset(config: RunConfig, given: ReadonlySet<RunFlagName>): RunConfig {
  // The digits are in the ImageNet layout: another --data_set without --data_path is a forgotten folder.
  if (config.data_set !== 'IMNET') {
    throw new DatasetFlagError('data_path', `--data_set ${config.data_set} needs --data_path (without it pix trains on the embedded ` +
      'demo digits, which are in the ImageNet layout of --data_set IMNET)');
  }
  const out: Record<string, unknown> = { ...config, data_path: DEMO_DATASET };
  for (const [key, value] of Object.entries(demoDigitsValues)) if (!given.has(key as RunFlagName)) out[key] = value;
  return out as RunConfig;
}
