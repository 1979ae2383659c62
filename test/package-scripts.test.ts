// The processes a user starts run compiled code: `npm start` and the command-line tools run dist/
// (built by install, `npm run build` or `npm run dev`), never a transpiler, and `npm start` never
// compiles first.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from './support/process.js';

const { scripts } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const userCommands = ['start', 'dev', 'db:migrate', 'db:migrate:new', 'db:migrate:check', 'schema:print', 'import', 'token:create', 'demo', 'db:template'];

describe("package.json's scripts", () => {
  it.each(userCommands)('%s runs compiled JavaScript from dist/, with no transpiler', (name) => {
    const script = scripts[name]!;
    expect(script).not.toMatch(/\btsx\b|ts-node|--experimental-strip-types|\.ts\b/);
    const entry = /\bnode (?:--\S+ )*(dist\/\S+\.js)/.exec(script)?.[1];
    expect(entry, script).toBeDefined();
    // Built from a source file of the same name (the bundle's entry too), so the build produced it.
    expect(existsSync(join(projectRoot, entry!.replace(/^dist\/(bundle\/)?/, 'src/').replace(/\.js$/, '.ts')))).toBe(true);
  });

  it('npm start neither builds nor has a pre-script that would', () => {
    expect(scripts.prestart).toBeUndefined();
    expect(scripts.start).not.toMatch(/\b(tsc|build)\b/);
  });

  it('install builds dist/ and the embedded database template from it', () => {
    expect(scripts.postinstall).toMatch(/npm run --silent build && node dist\/cli\/pglite-template\.js/);
  });

  it('the build bundles the server npm start runs, from the compiled dist/', () => {
    expect(scripts.build).toMatch(/^tsc -p tsconfig\.build\.json && node dist\/cli\/bundle\.js$/);
    expect(scripts.start).toMatch(/ dist\/bundle\/main\.js$/);
    expect(existsSync(join(projectRoot, 'dist/bundle/main.js'))).toBe(true);
    expect(existsSync(join(projectRoot, 'dist/bundle/directory-unpack.js'))).toBe(true);
  });
});
