// `pix serve [--host 127.0.0.1] [--port 8765] [--home DIR]`: the workbench in a browser, for a
// machine with no display. Starts the host and the serve-mode server (electron/host/serve/), prints
// the URL to open (the access token rides in its fragment), and on Ctrl-C closes both cleanly.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHost } from '../../host/api';
import { DEFAULT_HOST, startServer, type RunningServer } from '../../host/serve/server';
import type { Command } from '../command';

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
    const host = createHost(values.home === undefined ? undefined : { home: values.home });
    let server: RunningServer;
    try {
      server = await startServer({ client: host, rendererRoot: RENDERER_ROOT, host: values.host, port });
    } catch (error) {
      await host.close();
      throw error;
    }
    const interrupted = untilInterrupted();
    if (!server.loopback) console.error(exposureWarning(server));
    console.log(`PiX Workbench is serving at ${server.url}`);
    console.log(`Open this URL (it carries the access token): ${server.pageUrl}`);
    console.log('Press Ctrl-C to stop.');
    const signal = await interrupted;
    console.log(`${signal}: stopping…`);
    await server.close();
    await host.close();
    return 0;
  },
};
