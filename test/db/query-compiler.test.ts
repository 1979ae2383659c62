import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';
import { readQueryCompilerWasm } from '../../src/db/query-compiler.js';

// The generated client's settings (prisma/schema.prisma: compilerBuild = "small", PostgreSQL).
const importName = './query_compiler_small_bg.js';

describe("Prisma's query compiler, loaded from the plain file", () => {
  it('is byte for byte what the ES module the generated client imports holds', async () => {
    // The module the generated client imports (src/generated/prisma/internal/class.ts); it has no types.
    const esModule = '@prisma/client/runtime/query_compiler_small_bg.postgresql.wasm-base64.mjs';
    const { wasm } = (await import(esModule)) as { wasm: string };
    const bytes = await readQueryCompilerWasm(importName, 'postgresql');
    expect(bytes.length).toBeGreaterThan(1_000_000);
    expect(Buffer.from(bytes).equals(Buffer.from(wasm, 'base64'))).toBe(true);
  });

  it('refuses a build or provider name that is not one of the package files', async () => {
    await expect(readQueryCompilerWasm('../../etc/passwd', 'postgresql')).rejects.toThrow(/unexpected query compiler/);
    await expect(readQueryCompilerWasm(importName, 'postgresql/../x')).rejects.toThrow(/unexpected query compiler/);
  });

  it("is what the database's client compiles its queries with: the base64 ES module is never loaded", async () => {
    // In a process of its own, with a hook that sees every module Node resolves.
    const script = `
      import { registerHooks } from 'node:module';
      const resolved = [];
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); resolved.push(r.url); return r; } });
      const { openDatabase } = await import('./src/db/database.ts');
      const { applyMigrations } = await import('./src/db/migrations.ts');
      const db = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
      await applyMigrations(db.adapterFactory);
      await db.prisma.identity.create({ data: { traits: { email: 'compiler@example.com' } } });
      const count = await db.prisma.identity.count();
      await db.close();
      console.log(JSON.stringify({ count, compilerRuntime: resolved.some((u) => u.includes('query_compiler_small_bg.postgresql.mjs')), base64Module: resolved.some((u) => u.endsWith('.wasm-base64.mjs')) }));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: projectRoot });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code, err).toBe(0);
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ count: 1, compilerRuntime: true, base64Module: false });
  });
});
