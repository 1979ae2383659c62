// How `npm start` runs the server, read from package.json's start script (environment
// assignments, `NAME=value` or a default `NAME=${NAME:-value}`, then `[exec] node <flags> <entry>`), so that the benchmark and the tests start it
// exactly so. `exec` makes the shell npm runs the script in become the server, so the signals npm
// passes on (SIGTERM from a supervisor) reach the server instead of a shell that would die alone.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface StartCommand {
  /** Variables the script sets for the process. */
  env: Record<string, string>;
  /** Defaults it gives (`NAME=${NAME:-value}`): a caller's own value replaces them, as in the shell. */
  defaults: Record<string, string>;
  /** Node's arguments: its flags, then the entry file. */
  args: string[];
}

export function parseStartScript(script: string): StartCommand {
  const words = script.trim().split(/\s+/);
  const env: Record<string, string> = {};
  const defaults: Record<string, string> = {};
  for (let assignment; (assignment = /^([A-Z_][A-Z0-9_]*)=(?:\$\{([A-Z_][A-Z0-9_]*):-([^\s"'$;&|<>`{}]*)\}|([^\s"'$;&|<>`]*))$/.exec(words[0] ?? '')); words.shift()) {
    const [, name, defaulted, fallback, value] = assignment;
    if (defaulted !== undefined && defaulted !== name) break; // ${OTHER:-…}: not a default of its own
    if (fallback !== undefined) defaults[name!] = fallback;
    else env[name!] = value!;
  }
  if (words[0] === 'exec') words.shift();
  if (words.shift() !== 'node' || words.length === 0 || words.some((word) => /["'$;&|<>`]/.test(word))) {
    throw new Error(`package.json's start script is not "[NAME=value | NAME=\${NAME:-value} …] [exec] node <flags> <entry>": ${script}`);
  }
  return { env, defaults, args: words };
}

export function startCommand(): StartCommand {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
  return parseStartScript(manifest.scripts.start);
}

/** The variables the script gives a process started from `caller`'s environment. */
export function scriptEnv(command: StartCommand, caller: NodeJS.ProcessEnv): Record<string, string> {
  const kept = Object.entries(command.defaults).filter(([name]) => !caller[name]);
  return { ...Object.fromEntries(kept), ...command.env };
}
