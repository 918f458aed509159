// `pix serve [--host 127.0.0.1] [--port 8765] [--home DIR]`: the workbench in a browser, for a
// machine with no display. Starts the host and the serve-mode server (electron/host/serve/), prints
// the URL to open (the access token rides in its fragment), records it in <home>/serve.json for
// `pix runs` (serve_record.ts), and on Ctrl-C closes both cleanly.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHost, workbenchHome } from '../../host/api';
import { formatAuthority, isWildcardHost } from '../../host/serve/allowed_hosts';
import { DEFAULT_HOST, startServer, type RunningServer } from '../../host/serve/server';
import type { Command } from '../command';
import { processAlive, readServeRecord, removeServeRecord, serveRecordPath, writeServeRecord, type ServeRecord } from '../serve_record';

const DEFAULT_PORT = 8765;

/** Laid out by the build: this file is dist/electron/cli/commands/, the renderer dist/renderer/. */
const RENDERER_ROOT = join(__dirname, '..', '..', '..', 'renderer');

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new Error(`--port must be an integer from 0 to 65535 (0: any free port), got '${text}'`);
  return port;
}

/** Loud, on stderr: a non-loopback bind hands the machine to anyone who gets the URL. */
function exposureWarning(server: RunningServer): string {
  const tunnel = `ssh -L ${server.port}:127.0.0.1:${server.port} <this machine>`;
  return [
    '',
    `WARNING: serving on ${server.host}, reachable from other machines, over plain HTTP.`,
    'Anyone who sees the URL below (its token included) can start runs and read files by path as you.',
    `Prefer the default --host ${DEFAULT_HOST} and an SSH tunnel: ${tunnel}`,
    '',
  ].join('\n');
}

/** The address for clients on this machine: a wildcard bind answers on loopback too (allowed_hosts.ts). */
function localUrl(server: RunningServer): string {
  if (!isWildcardHost(server.host)) return server.url;
  return `http://${formatAuthority(server.host === '::' ? '::1' : '127.0.0.1', server.port)}/`;
}

/** Writes serve.json, first saying so when a live server of this home recorded itself there. */
function recordServer(home: string, server: RunningServer): void {
  let previous: ServeRecord | undefined;
  try {
    previous = readServeRecord(home);
  } catch {
    // a damaged record: replaced below
  }
  if (previous && previous.pid !== process.pid && processAlive(previous.pid)) {
    console.error(`warning: pix serve (pid ${previous.pid}, ${previous.url}) also serves ${home}; ` +
      `two hosts on one home both start its queued runs. pix runs now talks to this one.`);
  }
  writeServeRecord(home, { url: localUrl(server), token: server.token, pid: process.pid, startedAt: Date.now() });
}

function untilInterrupted(): Promise<string> {
  return new Promise((resolve) => {
    // once: a second Ctrl-C while closing gets Node's default, an immediate exit.
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve the workbench UI to a browser (for machines with no display)',
  usage: 'pix serve [--host 127.0.0.1] [--port 8765 (0: any free port)] [--home DIR (where runs are kept)]',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        host: { type: 'string', default: DEFAULT_HOST },
        port: { type: 'string', default: String(DEFAULT_PORT) },
        home: { type: 'string' },
      },
      strict: true,
    });
    const port = parsePort(values.port);
    const home = workbenchHome(values.home);
    const host = createHost({ home });
    let server: RunningServer | undefined;
    try {
      server = await startServer({ client: host, rendererRoot: RENDERER_ROOT, host: values.host, port });
      recordServer(home, server);
    } catch (error) {
      await server?.close();
      await host.close();
      throw error;
    }
    const interrupted = untilInterrupted();
    if (!server.loopback) console.error(exposureWarning(server));
    console.log(`PiX Workbench is serving at ${server.url}`);
    console.log(`Open this URL (it carries the access token): ${server.pageUrl}`);
    console.log(`Recorded in ${serveRecordPath(home)} for pix runs. Press Ctrl-C to stop.`);
    const signal = await interrupted;
    console.log(`${signal}: stopping…`);
    removeServeRecord(home, process.pid);
    await server.close();
    await host.close();
    return 0;
  },
};
