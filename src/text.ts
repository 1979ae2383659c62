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
  // Objects and arrays wait on the stack with their depths beside them; strings are checked where
  // they are found. No entry is allocated per value: an import's document has hundreds of
  // thousands of them, checked on the server's only thread.
  const objects: object[] = [root];
  const depths: number[] = [1];
  let problem: string | undefined;
  const visit = (item: unknown, depth: number): boolean => {
    if (typeof item === 'string') return (problem = stringProblem(item)) !== undefined;
    if (item !== null && typeof item === 'object') {
      objects.push(item);
      depths.push(depth);
    }
    return false;
  };
  while (objects.length > 0) {
    const value = objects.pop()!;
    const depth = depths.pop()!;
    if (depth > maxDepth) return `nests deeper than ${maxDepth} levels`;
    if (Array.isArray(value)) {
      for (const item of value) if (visit(item, depth + 1)) return problem;
    } else {
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        const keyProblem = stringProblem(key);
        if (keyProblem) return `${keyProblem} (in a key)`;
        if (visit(record[key], depth + 1)) return problem;
      }
    }
  }
  return undefined;
}
