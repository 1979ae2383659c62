// GraphiQL's page, with every asset inlined so it works offline: 9 MB of HTML, rendered once. Its
// renderer is loaded on the first request for the page: the bundle costs a process 35 MB of memory,
// which a server nobody opens GraphiQL on (every production one) never pays. The page is
// sent compressed when the browser accepts it (brotli, else gzip; each made once) and with an ETag,
// so a browser revalidates it (Cache-Control: no-cache) and gets 304 instead of the page again.
import { createHash } from 'node:crypto';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';

interface Page {
  html: string;
  etag: string;
  encoded: Map<string, Buffer>;
}

let page: Page | undefined;

/** Yoga's renderer: the page, rendered on first use and kept. */
export async function renderGraphiqlPage(options?: GraphiQLOptions): Promise<string> {
  if (!page) {
    const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
    const html = renderGraphiQL(options);
    // Two first requests at once both render it; the first one's page is kept.
    page ??= { html, etag: `"${createHash('sha256').update(html).digest('base64url').slice(0, 27)}"`, encoded: new Map() };
  }
  return page.html;
}

function encoded(current: Page, encoding: 'br' | 'gzip'): Buffer {
  let body = current.encoded.get(encoding);
  if (!body) {
    body =
      encoding === 'br'
        ? brotliCompressSync(current.html, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: current.html.length } })
        : gzipSync(current.html, { level: 9 });
    current.encoded.set(encoding, body);
  }
  return body;
}

function acceptedEncoding(header: string | null): 'br' | 'gzip' | undefined {
  const accepted = new Map(
    (header ?? '').split(',').map((part) => {
      const [name = '', ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return [name, q ? Number(q.slice(2)) : 1] as const;
    }),
  );
  if ((accepted.get('br') ?? 0) > 0) return 'br';
  if ((accepted.get('gzip') ?? 0) > 0) return 'gzip';
  return undefined;
}

export function graphiqlPagePlugin(): Plugin {
  return {
    onResponse({ request, response, setResponse }) {
      const current = page;
      if (!current || request.method !== 'GET' || !response.headers.get('content-type')?.startsWith('text/html')) return;
      const headers = new Headers({
        'content-type': 'text/html; charset=utf-8',
        etag: current.etag,
        'cache-control': 'no-cache',
        vary: 'Accept-Encoding',
      });
      const requestId = response.headers.get('x-request-id');
      if (requestId) headers.set('x-request-id', requestId);
      const presented = request.headers.get('if-none-match');
      if (presented && presented.split(',').some((tag) => tag.trim().replace(/^W\//, '') === current.etag)) {
        setResponse(new Response(null, { status: 304, headers }));
        return;
      }
      const encoding = acceptedEncoding(request.headers.get('accept-encoding'));
      if (!encoding) {
        setResponse(new Response(current.html, { status: 200, headers }));
        return;
      }
      headers.set('content-encoding', encoding);
      setResponse(new Response(new Uint8Array(encoded(current, encoding)), { status: 200, headers }));
    },
  };
}
