// One webhook request, to an address already checked: the connection goes to that address (the
// host name still goes in the Host header and TLS's SNI and certificate check), redirects are not
// followed, the whole attempt has one deadline, and at most `maxBodyBytes` of the answer are read.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from './addresses.js';

export interface PostResult {
  status: number;
  /** The start of the response body (at most maxBodyBytes). */
  body: string;
  durationMs: number;
}

/** The attempt got no status: `timeout` (the deadline passed), `network` (connection, TLS, reset), `aborted` (we stopped). */
export class PostFailure extends Error {
  constructor(
    readonly kind: 'timeout' | 'network' | 'aborted',
    message: string,
    readonly durationMs: number,
  ) {
    super(message);
  }
}

export interface PostOptions {
  url: URL;
  address: ResolvedAddress;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  maxBodyBytes: number;
  signal?: AbortSignal;
}

/** A lookup that answers the checked address whatever is asked (no second DNS query). */
function pinned(address: ResolvedAddress): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: address.address, family: address.family }]);
    else callback(null, address.address, address.family);
  }) as LookupFunction;
}

export function post(options: PostOptions): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const { url } = options;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new PostFailure('aborted', 'the server is stopping', 0));
    let status: number | undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const finish = () => {
      if (settled || status === undefined) return;
      settled = true;
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ status, body: Buffer.concat(chunks).toString('utf8'), durationMs: elapsed() });
    };
    const fail = (kind: PostFailure['kind'], message: string) => {
      if (settled) return;
      // The status came: the attempt has its answer, whatever happens to the rest of the body.
      if (status !== undefined) return finish();
      settled = true;
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      reject(new PostFailure(kind, message, elapsed()));
    };
    const req = send({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: { ...options.headers, 'content-length': Buffer.byteLength(options.body) },
      lookup: pinned(options.address),
      agent: false, // a connection of its own, to the checked address: no pooled socket to another one
    });
    const deadline = setTimeout(() => {
      fail('timeout', `no answer within ${options.timeoutMs} ms`);
      req.destroy();
    }, options.timeoutMs);
    const onAbort = () => {
      fail('aborted', 'the server is stopping');
      req.destroy();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error: NodeJS.ErrnoException) => fail('network', error.code ? `${error.code}: ${error.message}` : error.message));
    req.on('response', (res: IncomingMessage) => {
      status = res.statusCode ?? 0;
      res.on('data', (chunk: Buffer) => {
        if (received >= options.maxBodyBytes) return;
        const room = options.maxBodyBytes - received;
        chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
        received += Math.min(chunk.length, room);
        // Enough read: a receiver that keeps sending holds neither memory nor the worker.
        if (received >= options.maxBodyBytes) {
          finish();
          res.destroy();
        }
      });
      res.on('end', finish);
      res.on('error', finish);
      res.on('close', finish);
    });
    req.end(options.body);
  });
}
