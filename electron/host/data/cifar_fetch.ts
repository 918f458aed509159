// `pix data fetch-cifar`: what torchvision's CIFAR100(root, download=True) does, asked for by name:
// download the published archive into data_path, check its MD5 (torchvision's), and unpack
// cifar-100-python/{train, test, meta} there. Training never downloads (cifar.ts says where to
// fetch); this is the one command that does, so an offline GPU server fails at no surprise point.
//
// Nothing half-made is left behind: the archive is written to a .part file and renamed once its MD5
// matches, each unpacked file is written beside its place and renamed into it, and files already
// there are not fetched again. The tar reader takes regular files (ustar and GNU long names),
// checks every header's checksum, and refuses names that leave the folder.
//
// The workbench host runs the same fetch (cifar_fetches.ts), so nothing here blocks the event loop
// for long: the archive is hashed chunk by chunk as it streams, gunzipped on libuv's thread pool
// and its files written asynchronously. A signal cancels the download (its .part file removed); once unpacking starts it
// runs to the end, a few seconds, so that cancelling never leaves some of the three files in place.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { CIFAR100_FOLDER, CIFAR100_URL } from './cifar';

/** torchvision's CIFAR100.tgz_md5. */
export const CIFAR100_ARCHIVE_MD5 = 'eb9058c3a382ffc7106e4002c42a8d85';
const ARCHIVE = 'cifar-100-python.tar.gz';
const FILES = ['train', 'test', 'meta'];

export interface FetchOptions {
  /** Another address of the same archive (a mirror); default the published one. */
  url?: string;
  /** The archive's MD5; default the published archive's. */
  md5?: string;
  /** Bytes received so far, and the total where the server says it. */
  progress?(received: number, total: number | null): void;
  /** The steps after the download: the archive's MD5 checked, then its files unpacked. */
  phase?(phase: 'verifying' | 'unpacking'): void;
  /** Stops the download, leaving nothing behind; the error then says it was cancelled. */
  signal?: AbortSignal;
}

export interface FetchResult {
  folder: string;
  /** false when the files were already there. */
  fetched: boolean;
}

function fail(message: string): never {
  throw new Error(`pix data fetch-cifar: ${message}`);
}

/** Downloads url into `path`, hashing as it goes; returns the MD5. The file appears only when complete. */
async function download(url: string, path: string, { progress, signal }: FetchOptions): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, signal ? { signal } : {});
  } catch (error) {
    if (signal?.aborted) return fail('cancelled before the download began');
    const cause = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
    return fail(`cannot reach ${url}: ${cause} (on a machine without internet access, download the archive elsewhere and unpack it into --data_path)`);
  }
  if (!response.ok || !response.body) return fail(`${url} answered ${response.status} ${response.statusText}`);
  const total = Number(response.headers.get('content-length')) || null;
  const part = `${path}.part`;
  const hash = createHash('md5');
  const out = createWriteStream(part);
  let received = 0;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (signal?.aborted) throw signal.reason;
      hash.update(chunk);
      received += chunk.length;
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      progress?.(received, total);
    }
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  } catch (error) {
    out.destroy();
    rmSync(part, { force: true });
    if (signal?.aborted) return fail(`cancelled after ${received} bytes; the partial download was removed`);
    return fail(`the download from ${url} broke off after ${received} bytes: ${(error as Error).message}`);
  }
  renameSync(part, path);
  return hash.digest('hex');
}

function octal(header: Buffer, at: number, length: number): number {
  const text = header.toString('latin1', at, at + length).replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function text(header: Buffer, at: number, length: number): string {
  const end = header.indexOf(0, at);
  return header.toString('utf8', at, end < 0 || end > at + length ? at + length : end);
}

/** The regular files of a tar archive: name and contents (views of `tar`). */
export function tarFiles(tar: Buffer, source: string): { name: string; data: Buffer }[] {
  const files: { name: string; data: Buffer }[] = [];
  let longName: string | null = null;
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;  // the end-of-archive blocks
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
    if (sum !== octal(header, 148, 8)) fail(`${source} is damaged: the tar header at byte ${at} fails its checksum`);
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156]!);
    const dataStart = at + 512;
    if (dataStart + size > tar.length) fail(`${source} is truncated: the entry at byte ${at} runs past its end`);
    const data = tar.subarray(dataStart, dataStart + size);
    const prefix = text(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    longName = null;
    if (type === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
    else if (type === '0' || type === '\0') files.push({ name, data });
    at = dataStart + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** The MD5 of a file already there, read as a stream. */
async function md5Of(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Unpacks the archive's cifar-100-python/ files into dataPath, each renamed into place when written. */
async function unpack(archive: string, dataPath: string): Promise<void> {
  let tar: Buffer;
  try {
    tar = await promisify(gunzip)(await readFile(archive));
  } catch (error) {
    return fail(`${archive} is not a gzip archive: ${(error as Error).message}`);
  }
  const wanted = new Set(FILES.map((f) => `${CIFAR100_FOLDER}/${f}`));
  let found = 0;
  for (const { name, data } of tarFiles(tar, archive)) {
    const path = normalize(name);
    if (path.startsWith('..') || path.startsWith(sep)) fail(`${archive} holds ${name}, outside the folder it unpacks into`);
    if (!path.startsWith(`${CIFAR100_FOLDER}${sep}`)) continue;
    const target = join(dataPath, path);
    mkdirSync(dirname(target), { recursive: true });
    await writeFile(`${target}.part`, data);
    await rename(`${target}.part`, target);
    if (wanted.has(path.split(sep).join('/'))) found++;
  }
  if (found !== wanted.size) fail(`${archive} lacks some of ${[...wanted].join(', ')}: it is not the CIFAR-100 archive`);
}

/** torchvision's download=True for CIFAR-100, into dataPath. */
export async function fetchCifar100(dataPath: string, options: FetchOptions = {}): Promise<FetchResult> {
  const folder = join(dataPath, CIFAR100_FOLDER);
  if (FILES.every((f) => existsSync(join(folder, f)))) return { folder, fetched: false };
  const url = options.url ?? CIFAR100_URL;
  const expected = (options.md5 ?? CIFAR100_ARCHIVE_MD5).toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(expected)) fail(`--md5 must be 32 hexadecimal digits, got '${options.md5}'`);
  mkdirSync(dataPath, { recursive: true });
  const archive = join(dataPath, ARCHIVE);
  if (options.signal?.aborted) fail('cancelled before the download began');
  let md5: string;
  if (existsSync(archive)) {  // a download that completed before, its unpacking stopped
    options.phase?.('verifying');
    md5 = await md5Of(archive);
  } else {
    md5 = await download(url, archive, options);  // hashed as it arrived
    options.phase?.('verifying');
  }
  if (md5 !== expected) {
    rmSync(archive, { force: true });
    fail(`the archive from ${url} has MD5 ${md5}, not ${expected}: it is not the published CIFAR-100 archive (removed; try again, or another --url)`);
  }
  if (options.signal?.aborted) fail(`cancelled before unpacking; the checked archive stays in ${archive}, so fetching again only unpacks it`);
  options.phase?.('unpacking');
  await unpack(archive, dataPath);
  return { folder, fetched: true };
}
