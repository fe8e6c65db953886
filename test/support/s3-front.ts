/**
 * A logging pass-through in front of an S3 endpoint (moto): every request is recorded (method,
 * path, query, headers) and its body is scanned for secrets as it streams by, so a test can
 * assert that the Hokusai key never reaches the bucket. Faults answer with S3's own XML error
 * shape, for failures a healthy moto never gives (403 AccessDenied, 503 SlowDown, a 500 on one
 * part); `delayMs` holds a request before forwarding it (to cancel mid-upload).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface S3FrontRequest {
  method: string;
  /** pathname, e.g. /bucket/key (path-style) */
  path: string;
  /** the query string without "?" */
  query: string;
  headers: http.IncomingHttpHeaders;
  /** final status sent to the client (0 while in flight) */
  status: number;
  /** index into `faults` of the fault this request got */
  fault?: number;
  /** the secrets (by index in `secrets`) seen in the headers, the URL or the body */
  secretsSeen: number[];
}

export interface S3Fault {
  method?: string;
  /** tested against the pathname */
  path?: RegExp;
  /** tested against the query string (without "?") */
  query?: RegExp;
  /** answer with this status and an S3 error body with `code`; without it, forward (after delayMs) */
  status?: number;
  code?: string;
  message?: string;
  headers?: Record<string, string>;
  /** how many requests this fault takes; default every one */
  times?: number;
  /** wait this long before forwarding or answering */
  delayMs?: number;
}

export interface S3Front {
  url: string;
  requests: S3FrontRequest[];
  /** live: push or splice to change faults mid-test */
  faults: S3Fault[];
  stop(): Promise<void>;
}

export async function startS3Front(opts: { upstream: string; secrets?: string[]; faults?: S3Fault[] }): Promise<S3Front> {
  const upstream = new URL(opts.upstream);
  const secrets = (opts.secrets ?? []).filter((s) => s.length > 0).map((s) => Buffer.from(s));
  const longest = Math.max(1, ...secrets.map((s) => s.length));
  const requests: S3FrontRequest[] = [];
  const faults = opts.faults ?? [];
  const sockets = new Set<Socket>();
  const agent = new http.Agent({ keepAlive: true });

  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://front');
    const record: S3FrontRequest = {
      method: req.method ?? 'GET',
      path: u.pathname,
      query: u.search.replace(/^\?/, ''),
      headers: req.headers,
      status: 0,
      secretsSeen: [],
    };
    requests.push(record);
    const see = (text: Buffer | string) => {
      const b = typeof text === 'string' ? Buffer.from(text) : text;
      secrets.forEach((s, i) => {
        if (b.includes(s) && !record.secretsSeen.includes(i)) record.secretsSeen.push(i);
      });
    };
    see(decodeURIComponent(req.url ?? ''));
    see(JSON.stringify(req.headers));

    // The body is scanned across chunk boundaries: the tail of one chunk is kept for the next.
    let tail = Buffer.alloc(0);
    const scan = (chunk: Buffer) => {
      const joined = Buffer.concat([tail, chunk]);
      see(joined);
      tail = joined.subarray(Math.max(0, joined.length - (longest - 1)));
    };

    const index = faults.findIndex(
      (f) =>
        (f.times === undefined || f.times > 0) &&
        (!f.method || f.method.toUpperCase() === record.method) &&
        (!f.path || f.path.test(record.path)) &&
        (!f.query || f.query.test(record.query)),
    );
    const fault = index >= 0 ? faults[index] : undefined;
    if (fault) {
      record.fault = index;
      if (fault.times !== undefined) fault.times--;
    }
    const finish = (status: number) => {
      record.status = status;
    };
    const go = () => {
      if (fault?.status !== undefined) {
        // Read the whole body (as S3 does before it answers a PUT), then the error.
        req.on('data', scan);
        req.on('end', () => {
          const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code ?? 'InternalError'}</Code><Message>${fault.message ?? 'fault injected by the test front'}</Message><RequestId>front</RequestId></Error>`;
          res.writeHead(fault.status!, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), ...fault.headers });
          res.end(body, () => finish(fault.status!));
        });
        return;
      }
      const headers = { ...req.headers, host: upstream.host };
      const out = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          up.on('end', () => finish(up.statusCode ?? 502));
        },
      );
      out.on('error', () => {
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
        finish(502);
      });
      req.on('data', (chunk: Buffer) => {
        scan(chunk);
        if (!out.write(chunk)) {
          req.pause();
          out.once('drain', () => req.resume());
        }
      });
      req.on('end', () => out.end());
      req.on('aborted', () => out.destroy());
    };
    if (fault?.delayMs) {
      req.pause();
      const timer = setTimeout(() => {
        req.resume();
        go();
      }, fault.delayMs);
      req.socket.once('close', () => clearTimeout(timer));
    } else go();
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    faults,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
