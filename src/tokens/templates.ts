// JWT templates: claims a session token carries besides the defaults, as JSON whose strings may
// hold placeholders — {{identity.traits.email}}, {{session.id}}, {{identity.metadataPublic.plan}}.
// A string that is one placeholder becomes the value itself (any JSON, null when there is none);
// placeholders inside longer text are replaced by the value as text ("" when there is none).

/** Claims every session token carries, which a template may not set (Clerk's rule). */
export const defaultClaims = ['sid', 'sub', 'iat', 'nbf', 'exp', 'iss', 'azp', 'v', 'tpl', 'jti'] as const;

const placeholder = /\{\{\s*([A-Za-z_][\w]*(?:\.[\w-]+)*)\s*\}\}/g;
const whole = /^\{\{\s*([A-Za-z_][\w]*(?:\.[\w-]+)*)\s*\}\}$/;
const roots = ['identity', 'session'] as const;

/** What placeholders may read: the identity and session as a token may show them (no admin metadata). */
export interface PlaceholderValues {
  identity: Record<string, unknown>;
  session: Record<string, unknown>;
}

/** The first problem with a template's claims, as [path, problem], or undefined. */
export function claimsProblem(claims: unknown): [string, string] | undefined {
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) return ['claims', 'must be a JSON object'];
  for (const name of Object.keys(claims)) {
    if ((defaultClaims as readonly string[]).includes(name)) return [`claims.${name}`, `is a default claim every session token carries; a template cannot set it`];
  }
  const stack: [unknown, string][] = [[claims, 'claims']];
  while (stack.length) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      for (const match of value.matchAll(placeholder)) {
        const root = match[1]!.split('.')[0]!;
        if (!(roots as readonly string[]).includes(root)) return [path, `placeholder {{${match[1]}}} must start with identity. or session.`];
      }
      if (value.replace(placeholder, '').includes('{{')) return [path, 'has a {{ that is not a placeholder such as {{identity.traits.email}}'];
    } else if (Array.isArray(value)) value.forEach((item, i) => stack.push([item, `${path}[${i}]`]));
    else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) stack.push([item, `${path}.${key}`]);
  }
  return undefined;
}

function lookup(values: PlaceholderValues, path: string): unknown {
  let current: unknown = values;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return null;
    current = (current as Record<string, unknown>)[part];
    if (current === undefined) return null;
  }
  return current;
}

/** A template's claims made ready once: each string is known to be plain, one placeholder, or text with placeholders. */
export type CompiledClaims = (values: PlaceholderValues) => Record<string, unknown>;

export function compileClaims(claims: unknown): CompiledClaims {
  const compile = (value: unknown): ((values: PlaceholderValues) => unknown) => {
    if (typeof value === 'string') {
      const single = whole.exec(value);
      if (single) {
        const path = single[1]!;
        return (values) => lookup(values, path);
      }
      if (value.search(placeholder) < 0) return () => value;
      return (values) =>
        value.replace(placeholder, (_m, path: string) => {
          const found = lookup(values, path);
          return found === null ? '' : typeof found === 'string' ? found : JSON.stringify(found);
        });
    }
    if (Array.isArray(value)) {
      const items = value.map(compile);
      return (values) => items.map((item) => item(values));
    }
    if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value).map(([key, item]) => [key, compile(item)] as const);
      return (values) => Object.fromEntries(entries.map(([key, item]) => [key, item(values)]));
    }
    return () => value;
  };
  return compile(claims) as CompiledClaims;
}

/** The template's claims with every placeholder resolved. */
export function resolveClaims(claims: unknown, values: PlaceholderValues): Record<string, unknown> {
  return compileClaims(claims)(values);
}
