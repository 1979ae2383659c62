// The README's test command must pass on a fresh clone, where nothing sits beside the repository:
// the repository's files are copied (as a clone would have them) into an empty folder with no
// siblings, and what the tests need must be found there.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from './support/process.js';
import { temporaryDirectories } from './support/temp-dirs.js';
import { loadWycheproofSuite, wycheproofFiles } from './support/vectors.js';

const tempDir = temporaryDirectories('clone');

/** The files a clone of this checkout would have: tracked ones and new ones git does not ignore. */
function repositoryFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: projectRoot, encoding: 'utf8' });
  return listed.split('\0').filter((file) => file && !file.startsWith('node_modules/'));
}

describe('a fresh clone', () => {
  it('carries the Wycheproof vectors, with their license, and loads them from there', async () => {
    // <empty>/sessiongraph: the clone has no siblings, so nothing beside it to read.
    const clone = join(await tempDir(), 'sessiongraph');
    for (const file of repositoryFiles()) {
      mkdirSync(dirname(join(clone, file)), { recursive: true });
      try {
        copyFileSync(join(projectRoot, file), join(clone, file));
      } catch (error) {
        // A file deleted in the working tree but not yet from the index is not in the clone either.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    expect(readdirSync(dirname(clone))).toEqual(['sessiongraph']);
    expect(readFileSync(join(clone, 'test/vectors/wycheproof/LICENSE'), 'utf8')).toContain('Apache License');
    for (const file of wycheproofFiles) {
      const suite = loadWycheproofSuite(file, clone);
      const vectors = suite.testGroups.flatMap((group) => group.tests);
      expect(vectors.length).toBe(suite.numberOfTests);
      expect(vectors.length).toBeGreaterThan(250);
    }
  });

  it('has no source, test, benchmark or CI file that reaches outside the repository', () => {
    const outside = repositoryFiles()
      .filter((file) => /^(src|test|bench|\.ci)\/|^package\.json$|^prisma\.config\.ts$/.test(file))
      .filter((file) => !file.startsWith('test/vectors/'))
      .filter((file) => /\.\.\/(\.\.\/)*shared\b/.test(readFileSync(join(projectRoot, file), 'utf8')));
    expect(outside).toEqual([]);
  });

  it('keeps data flowing one way: nothing below the schema imports the schema, the HTTP layer or the server', () => {
    // The layers above the domain: the schema (and its builder), the HTTP plugins, the server and CLIs.
    const upper = /^src\/(schema\/|planner\/|http\/|cli\/|demo\/|builder\.ts$|server\.ts$|main\.ts$|start\.ts$|maintenance\.ts$|generated\/)/;
    const reachesUp = /from '(\.\.?\/)+(schema\/|planner\/|http\/|builder\.js|server\.js|main\.js)/;
    const offenders = repositoryFiles()
      .filter((file) => file.startsWith('src/') && file.endsWith('.ts') && !upper.test(file))
      .filter((file) => reachesUp.test(readFileSync(join(projectRoot, file), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('keeps the planner beside the schema: neither uses the other\'s types, the planner shares only the cursor rules', () => {
    const sources = repositoryFiles().filter((file) => file.endsWith('.ts'));
    const read = (file: string) => readFileSync(join(projectRoot, file), 'utf8');
    // The planner reads the schema it is handed (graphql-js), never the builder or a Pothos type.
    const plannerReachesSchema = sources
      .filter((file) => file.startsWith('src/planner/'))
      .filter((file) => /from '(\.\.\/)+(builder\.js|schema\/(?!pagination\.js))/.test(read(file)));
    const schemaReachesPlanner = sources.filter((file) => file.startsWith('src/schema/')).filter((file) => /from '(\.\.\/)+planner\//.test(read(file)));
    expect(plannerReachesSchema).toEqual([]);
    expect(schemaReachesPlanner).toEqual([]);
  });
});
