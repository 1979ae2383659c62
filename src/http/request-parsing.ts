// Reading a request into GraphQL parameters, with every failure a 4xx that names the problem:
// bodies over MAX_REQUEST_BODY_BYTES are 413 (a declared Content-Length is checked before anything
// is read; a chunked body is read up to the limit only, and the connection is closed after the
// answer, since the rest of the body is never read); a GET whose `variables` or `extensions` is not
// JSON, or a POST body that is not, is 400 without echoing the parser's internals.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

function tooLarge(limit: number): GraphQLError {
  return new GraphQLError(`Request body is larger than ${limit} bytes (MAX_REQUEST_BODY_BYTES)`, {
    extensions: { code: 'PAYLOAD_TOO_LARGE', http: { status: 413, headers: { connection: 'close' } } },
  });
}

function badRequest(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
}

async function readAtMost(request: Request, limit: number): Promise<Buffer> {
  const reader = request.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** The parser's failure as a client error of our own: the message and code, nothing of its internals. */
function clientError(error: unknown): unknown {
  if (error instanceof SyntaxError) return badRequest('The "variables" or "extensions" parameter is not valid JSON');
  if (error instanceof GraphQLError) {
    const http = (error.extensions.http ?? {}) as { status?: number; headers?: Record<string, string> };
    const status = http.status ?? 400;
    if (status >= 500) return error;
    return new GraphQLError(error.message, { extensions: { code: error.extensions.code ?? 'BAD_REQUEST', http: { status, headers: http.headers } } });
  }
  return error;
}

export function requestParsingPlugin(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (!requestParser) return;
      const declared = request.headers.get('content-length');
      if (request.method === 'POST' && declared !== null && Number(declared) > limit) throw tooLarge(limit);
      const chunked = request.method === 'POST' && declared === null;
      setRequestParser(async (incoming) => {
        try {
          if (!chunked) return await requestParser(incoming);
          const body = await readAtMost(incoming, limit);
          return await requestParser(new fetchAPI.Request(incoming.url, { method: incoming.method, headers: incoming.headers, body: new Uint8Array(body) }));
        } catch (error) {
          throw clientError(error);
        }
      });
    },
  };
}
