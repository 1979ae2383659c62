// What the command-line tools share: a usage mistake, and how a run ends — its message on stdout
// and exit 0, or one line on stderr and exit 1, never a stack trace.
import { ConfigError } from '../config.js';

/** The arguments were wrong: the message says how, with the usage line. */
export class UsageError extends Error {}

/**
 * Runs a command and exits. `explain` turns the command's own errors into a line (or undefined to
 * fall through); other failures read "<failed> <message>".
 */
export function runCommand(run: () => Promise<string>, failed: string, explain: (error: unknown) => string | undefined = () => undefined): void {
  run().then(
    (message) => {
      console.log(message);
      process.exit(0);
    },
    (error: unknown) => {
      const explained = explain(error);
      if (explained !== undefined) console.error(explained);
      else if (error instanceof UsageError) console.error(error.message);
      else if (error instanceof ConfigError) console.error(`sessiongraph: ${error.message}`);
      else console.error(`${failed} ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
