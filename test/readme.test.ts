// The README's GraphQL examples run, as written, against a server loaded with `npm run demo`'s
// sample: each ```graphql block, each operation line of an unlabelled block, and each inline
// `mutation { … }` / `{ … }` of the prose, read from README.md at test time. Any error fails.
// Its links lead to files in the repository.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSignerEmail, loadDemo } from '../src/demo/load.js';
import { adminAuthorization, createTestApp, testConfig, type TestApp } from './support/app.js';
import { pgliteTarget } from './support/databases.js';
import { projectRoot } from './support/process.js';
import { createBrowserSession, type BrowserSession } from './support/sessions.js';

const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');

interface Example {
  /** Where it is: the README's line number. */
  line: number;
  text: string;
}

const lineOf = (offset: number) => readme.slice(0, offset).split('\n').length;
const operationStart = /^(?:(?:query|mutation|subscription)\b[^{]*\{|\{\s*\w)/;

/** Every GraphQL operation the README shows. */
function readmeExamples(markdown = readme): Example[] {
  const examples: Example[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(fence)) {
    const [, language, body] = match;
    const bodyLine = lineOf(match.index!) + 1;
    if (language === 'graphql') examples.push({ line: bodyLine, text: body!.trim() });
    else if (language === '') {
      // An unlabelled block of one-line operations, each perhaps with a # comment.
      body!.split('\n').forEach((text, i) => {
        if (operationStart.test(text.trim())) examples.push({ line: bodyLine + i, text: text.trim() });
      });
    }
  }
  // Inline code in the prose (fences blanked out, so offsets keep their lines).
  const prose = markdown.replace(fence, (block) => block.replace(/[^\n]/g, ' '));
  for (const match of prose.matchAll(/`([^`\n]+)`/g)) {
    const text = match[1]!.trim();
    if (operationStart.test(text) && text.endsWith('}')) examples.push({ line: lineOf(match.index!), text });
  }
  return examples;
}

describe('the README', () => {
  const examples = readmeExamples();
  let t: TestApp;
  let session: BrowserSession;
  let signerId: string;
  beforeAll(async () => {
    t = await createTestApp(pgliteTarget);
    await loadDemo(t.db, testConfig());
    // A session of the demo's signed-revocation account calls the examples that read `viewer`.
    const signer = await t.db.prisma.identity.findFirstOrThrow({ where: { traits: { path: ['email'], equals: demoSignerEmail } } });
    signerId = `Identity:${signer.id}`;
    session = await createBrowserSession(t, signerId);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('shows the examples this test runs (so a change to their form cannot skip them all)', () => {
    const texts = examples.map((e) => e.text);
    expect(examples.length).toBeGreaterThanOrEqual(8);
    for (const expected of ['identities(first: 10', 'createSession(input: { identityId:', 'viewer {\n    session { id }', 'createApiToken(', '{ apiTokens {', 'createSessionToken(', 'sessionToken(template: "backend")', 'subscription { sessionEvents', 'events(first: 20)']) {
      expect(texts.some((text) => text.includes(expected)), expected).toBe(true);
    }
  });

  it.each(readmeExamples().map((e) => [e.line, e.text] as const))('line %i runs without an error: %s', async (_line, written) => {
    // The placeholders the README uses for ids; any other "…" is not runnable as written.
    const text = written.replaceAll('"Session:…"', JSON.stringify(session.id)).replaceAll('"Identity:…"', JSON.stringify(signerId));
    expect(text, 'an example with a placeholder this test cannot fill').not.toContain('…');
    const operation = parse(text).definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
    // What `viewer` reads is the caller's own: those examples are a session's, the rest an admin's.
    const authorization = /\bviewer\b/.test(text) ? session.authorization : undefined;
    if (operation.operation === 'subscription') {
      const event = await firstStreamedResult(text, authorization);
      expect(event.errors).toBeUndefined();
      expect(event.data).toBeTruthy();
      return;
    }
    const result = await t.graphql(text, {}, authorization ? { authorization } : {});
    expect(result.errors).toBeUndefined();
    expect(result.data).toBeTruthy();
  });

  /** Subscribes over SSE, makes an event happen, and returns the first result streamed. */
  async function firstStreamedResult(query: string, authorization?: string): Promise<{ data?: unknown; errors?: unknown[] }> {
    const response = await t.app.fetch('http://sessiongraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: authorization ?? adminAuthorization },
      body: JSON.stringify({ query }),
    });
    expect(response.status).toBe(200);
    // Something happens to the caller's identity (or to any, for an API token): a new session.
    await expect.poll(() => t.events.size).toBeGreaterThan(0);
    const signer = await t.db.prisma.identity.findFirstOrThrow({ where: { traits: { path: ['email'], equals: demoSignerEmail } } });
    await createBrowserSession(t, `Identity:${signer.id}`);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`the stream ended before a result: ${buffer}`);
        buffer += decoder.decode(value, { stream: true });
        const message = buffer.split('\n\n').find((block) => /^event: (next|complete)$/m.test(block));
        if (message) {
          const data = /^data: ?(.*)$/m.exec(message)?.[1];
          if (!data) throw new Error(`the stream completed without a result: ${message}`);
          return JSON.parse(data) as { data?: unknown; errors?: unknown[] };
        }
      }
    } finally {
      await reader.cancel();
    }
  }

  it('links only to files in the repository, and shows commands that run on any Unix', () => {
    const documents = ['README.md', 'docs/events.md', 'docs/field-mapping.md', 'docs/performance.md'];
    const broken = documents.flatMap((document) => {
      const text = readFileSync(join(projectRoot, document), 'utf8');
      const links = [...text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((target) => !/^[a-z]+:/.test(target));
      // Backticked paths that leave the repository (`../<folder>/`) are links too.
      const outside = [...text.matchAll(/`(\.\.\/[^`]*)`/g)].map((m) => m[1]!);
      return [...links.filter((target) => !existsSync(join(projectRoot, dirname(document), target))), ...outside].map((target) => `${document}: ${target}`);
    });
    expect(broken).toEqual([]);
    // GNU-only flags of coreutils (base64 -w0 wraps nothing on macOS: it fails).
    expect(readme).not.toMatch(/base64 -w/);
  });
});
