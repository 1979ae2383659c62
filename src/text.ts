// What PostgreSQL can store: text without U+0000 and valid Unicode (no lone UTF-16 surrogates),
// JSON of bounded depth. Checked before writing, so a refusal names the field, not a SQL error.

/** Why PostgreSQL would refuse this string, or undefined. */
export function stringProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'Strings must not contain the NUL character (U+0000)';
  if (!value.isWellFormed()) return 'Strings must be well-formed Unicode (a lone UTF-16 surrogate cannot be stored)';
  return undefined;
}

/** Why a JSON value could not be stored (a bad string or key, or too deep), or undefined. Never recurses. */
export function jsonProblem(root: unknown, maxDepth: number): string | undefined {
  // Most values checked are one string (an id, a name): no stack for those.
  if (typeof root === 'string') return stringProblem(root);
  if (root === null || typeof root !== 'object') return undefined;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value === 'string') {
      const problem = stringProblem(value);
      if (problem) return problem;
    } else if (value !== null && typeof value === 'object') {
      if (depth > maxDepth) return `nests deeper than ${maxDepth} levels`;
      if (Array.isArray(value)) {
        for (const item of value) stack.push([item, depth + 1]);
      } else {
        for (const [key, item] of Object.entries(value)) {
          const problem = stringProblem(key);
          if (problem) return `${problem} (in a key)`;
          stack.push([item, depth + 1]);
        }
      }
    }
  }
  return undefined;
}
