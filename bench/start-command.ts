// How `npm start` runs the server, read from package.json's start script (environment
// assignments, then `node <flags> <entry>`), so that the benchmark and the tests start it exactly so.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface StartCommand {
  /** Variables the script sets for the process. */
  env: Record<string, string>;
  /** Node's arguments: its flags, then the entry file. */
  args: string[];
}

export function parseStartScript(script: string): StartCommand {
  const words = script.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (words[0] && /^[A-Z_][A-Z0-9_]*=\S*$/.test(words[0])) {
    const assignment = words.shift()!;
    const equals = assignment.indexOf('=');
    env[assignment.slice(0, equals)] = assignment.slice(equals + 1);
  }
  if (words.shift() !== 'node' || words.length === 0 || words.some((word) => /["'$;&|<>`]/.test(word))) {
    throw new Error(`package.json's start script is not "[NAME=value …] node <flags> <entry>": ${script}`);
  }
  return { env, args: words };
}

export function startCommand(): StartCommand {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
  return parseStartScript(manifest.scripts.start);
}
