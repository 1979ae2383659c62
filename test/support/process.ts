// Runs sessiongraph's entry points as real child processes, the way a user starts them.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scriptEnv, startCommand } from '../../bench/start-command.js';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The environment of this process without the variables sessiongraph reads (or sets for itself). */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'DATA_DIR', 'PORT', 'HOST', 'LOG_LEVEL', 'NODE_ENV', 'TEST_DATABASE_URL', 'MALLOC_MMAP_THRESHOLD_']) {
    delete env[name];
  }
  return { ...env, ...extra };
}

export function runToEnd(command: string, args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<Finished> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: projectRoot, env: cleanEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Parsed log lines so far. */
  logs: Record<string, unknown>[];
  stderr(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const server = startCommand();
/** The compiled server as `npm start` runs it (`npm test` builds it first): no transpiler in the process. */
export const serverEntry = server.args;
/** The environment `npm start` gives it (started from cleanEnv's, where none of its defaults is set). */
export const serverEnv = scriptEnv(server, {});

/** Starts the compiled server on a free port and resolves once it logs that it is ready. */
export function startServer(env: Record<string, string>, timeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, serverEntry, {
    cwd: projectRoot,
    env: cleanEnv({ ...serverEnv, PORT: '0', HOST: '127.0.0.1', ...env }),
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let buffered = '';
  // 'close', not 'exit': the child's output is read to its end by then (its last log line too).
  const exited = new Promise<number | null>((resolveExit) => child.on('close', (code) => resolveExit(code)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'sessiongraph ready') {
          clearTimeout(timer);
          resolvePromise({
            child,
            url: String(entry.url).replace(/\/graphql$/, ''),
            logs,
            stderr: () => stderr,
            stop: (signal = 'SIGTERM') => {
              child.kill(signal);
              return exited;
            },
          });
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it was ready:\n${stderr}`));
    });
  });
}
