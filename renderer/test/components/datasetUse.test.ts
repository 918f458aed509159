// How the run form reads a dataset check under its --data_set, as pix train resolves the folder:
// CIFAR-100's files only with --data_set CIFAR, and --data_set CIFAR only on such a folder.
import { describe, expect, it } from 'vitest';
import type { DatasetCheck } from '../../../shared/api';
import { datasetUse, type DatasetFlagsInForm } from '../../src/components/runForm/useDatasetCheck';

const flags = (data_set: string): DatasetFlagsInForm => ({ data_set, eval_data_path: '', nb_classes: 1000, evaluates: true });
const checked = (check: DatasetCheck) => ({ status: 'checked' as const, check });
const cifar: DatasetCheck = { ok: true, path: '/data/c100', dataSet: 'CIFAR', classes: 100, classNames: [], trainImages: 50000, valImages: 10000 };
const imagenet: DatasetCheck = { ok: true, path: '/data/imagenet', dataSet: 'IMNET', classes: 1000, classNames: [], trainImages: 1281167, valImages: 50000 };
const folder: DatasetCheck = { ok: true, path: '/data/flowers', dataSet: 'image_folder', classes: 5, classNames: [], trainImages: 3200, valImages: 3200 };

describe('datasetUse with CIFAR-100', () => {
  it('trains on the train file and evaluates on the test file under --data_set CIFAR, whatever --nb_classes says', () => {
    expect(datasetUse(checked(cifar), flags('CIFAR'))).toEqual({
      hint: 'CIFAR-100: 100 classes · 50,000 train / 10,000 test images', problems: {}, trainImages: 50000,
    });
  });

  it('refuses CIFAR-100 under another --data_set, naming the one to set', () => {
    for (const other of ['IMNET', 'image_folder']) {
      const use = datasetUse(checked(cifar), flags(other));
      expect(use.trainImages).toBeNull();
      expect(use.problems.data_path).toMatch(/\/data\/c100 holds CIFAR-100's files .*: set --data_set CIFAR to train on them/);
    }
  });

  it('refuses --data_set CIFAR on another layout, and on the demo digits', () => {
    expect(datasetUse(checked(imagenet), flags('CIFAR')).problems.data_path)
      .toMatch(/reads CIFAR-100 from \/data\/imagenet\/cifar-100-python\/ .* is in the ImageNet layout: set --data_set IMNET/);
    expect(datasetUse(checked(folder), flags('CIFAR')).problems.data_path).toMatch(/is an image folder: set --data_set image_folder/);
    expect(datasetUse(checked({ ...imagenet, path: '' }), flags('CIFAR')).problems.data_path)
      .toMatch(/--data_set CIFAR needs --data_path: the folder holding cifar-100-python\//);
  });

  it('names the command that downloads CIFAR-100 when --data_set CIFAR meets a folder without it', () => {
    const failed: DatasetCheck = { ok: false, path: '/data/empty', problem: '/data/empty is in none of the layouts a data folder may have' };
    expect(datasetUse(checked(failed), flags('CIFAR')).problems.data_path)
      .toBe('/data/empty is in none of the layouts a data folder may have. To download CIFAR-100 there: pix data fetch-cifar --data_path /data/empty');
    expect(datasetUse(checked(failed), flags('IMNET')).problems.data_path).toBe(failed.problem);
    expect(datasetUse(checked(imagenet), flags('CIFAR')).problems.data_path).toMatch(/\(pix data fetch-cifar --data_path DIR downloads it\)$/);
  });

  it('offers fetching CIFAR-100 into a folder without it under --data_set CIFAR only', () => {
    const failed: DatasetCheck = { ok: false, path: '/data/empty', problem: '/data/empty is not a folder' };
    expect(datasetUse(checked(failed), flags('CIFAR')).cifarFetch).toBe('/data/empty');
    expect(datasetUse(checked(failed), flags('IMNET')).cifarFetch).toBeUndefined();
    expect(datasetUse(checked({ ...failed, path: '' }), flags('CIFAR')).cifarFetch).toBeUndefined();
    // A folder in another layout is not where CIFAR-100 goes: it would still be read as that layout.
    expect(datasetUse(checked(imagenet), flags('CIFAR')).cifarFetch).toBeUndefined();
  });

  it('leaves the other layouts as they were', () => {
    expect(datasetUse(checked(imagenet), flags('IMNET')).trainImages).toBe(1281167);
    expect(datasetUse(checked(folder), flags('image_folder')).hint).toMatch(/^Image folder: 5 classes/);
  });
});
