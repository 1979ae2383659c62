// The first module every entry point loads (the server and the command-line tools): an older Node
// stops here with one line, before anything that needs Node 24 is loaded and fails obscurely.
// It imports nothing, so nothing of the project is linked or run ahead of the check.

export const requiredNodeMajor = 24;

/** The line refusing `version` (process.versions.node), or undefined when it is recent enough. */
export function refusal(version: string): string | undefined {
  const major = Number(version.split('.')[0]);
  return major >= requiredNodeMajor ? undefined : `sessiongraph: Node.js ${requiredNodeMajor} or newer is required; this is Node.js ${version}`;
}

const refused = refusal(process.versions.node);
if (refused) {
  process.stderr.write(`${refused}\n`);
  process.exit(1);
}
