// One WorkbenchApi call over a running server's HTTP face, as a browser makes it (token, Host,
// JSON body), answering the status and the body's error (undefined for a 200 without one).
import { request as httpRequest } from 'node:http';
import type { RunningServer } from '../../../electron/host/serve/server';

export interface ApiReply {
  status: number;
  error: string | undefined;
  body: unknown;
}

export function callApi(server: RunningServer, method: string, request?: unknown): Promise<ApiReply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1', port: server.port, path: `/api/${method}`, method: 'POST',
      headers: {
        host: `127.0.0.1:${server.port}`, authorization: `Bearer ${server.token}`,
        ...(request === undefined ? {} : { 'content-type': 'application/json' }),
      },
    }, (res) => {
      let reply = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (reply += chunk)).on('end', () => {
        const body = JSON.parse(reply) as unknown;
        const error = (body as { error?: unknown } | null)?.error;
        resolve({ status: res.statusCode ?? 0, error: error === undefined ? undefined : String(error), body });
      });
    });
    req.on('error', reject).end(request === undefined ? undefined : JSON.stringify(request));
  });
}
