// JWT templates: claims a session token carries besides the defaults, as JSON whose strings may
// hold placeholders — {{identity.traits.email}}, {{session.id}}, {{identity.metadataPublic.plan}}.
// A string that is one placeholder becomes the value itself (any JSON, null when there is none);
// placeholders inside longer text are replaced by the value as text ("" when there is none).
// Placeholders read the JSON data of the identity and session only: own properties of plain
// objects, never a prototype or a function, so no template can make minting fail.

/** Claims every session token carries, which a template may not set (Clerk's rule). */
export const defaultClaims = ['sid', 'sub', 'iat', 'nbf', 'exp', 'iss', 'azp', 'v', 'tpl', 'jti'] as const;

/**
 * The most a token's claims may take as JSON (a template's, and a token's once its placeholders
 * are filled): the JWT then stays under about 6 KB, within an 8 KiB header line (nginx's default
 * buffer; Node allows 16 KiB for all headers).
 */
export const maxClaimsBytes = 4096;

const placeholder = /\{\{\s*([A-Za-z_][\w]*(?:\.[\w-]+)*)\s*\}\}/g;
const whole = /^\{\{\s*([A-Za-z_][\w]*(?:\.[\w-]+)*)\s*\}\}$/;

/**
 * What placeholders may read: the identity and session as a token may show them (no admin
 * metadata). `json` fields hold a JSON object whose own properties a placeholder may name further
 * (`identity.traits.name.first`); the others are scalars.
 */
export const placeholderFields = {
  identity: { id: 'scalar', externalId: 'scalar', externalSource: 'scalar', traits: 'json', metadataPublic: 'json', state: 'scalar', schemaId: 'scalar', organizationId: 'scalar', createdAt: 'scalar' },
  session: {
    id: 'scalar', externalId: 'scalar', status: 'scalar', type: 'scalar', aal: 'scalar', clientId: 'scalar', actor: 'json',
    lastActiveOrganizationId: 'scalar', authenticatedAt: 'scalar', expiresAt: 'scalar',
  },
} as const;

export type PlaceholderValues = { [Root in keyof typeof placeholderFields]: Record<keyof (typeof placeholderFields)[Root], unknown> };

// Names every object inherits: naming one reads a prototype's member, not the data.
const inherited = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

/** Why a placeholder's path names nothing a token may carry, or undefined. */
function pathProblem(path: string): string | undefined {
  const [root, field, ...rest] = path.split('.');
  const fields = (placeholderFields as Record<string, Record<string, string>>)[root!];
  if (!fields || !Object.hasOwn(placeholderFields, root!)) return `placeholder {{${path}}} must start with identity. or session.`;
  if (field === undefined || !Object.hasOwn(fields, field)) {
    return `placeholder {{${path}}} names no field of ${root}; it may read ${Object.keys(fields).map((name) => `${root}.${name}`).join(', ')}`;
  }
  if (rest.length > 0 && fields[field] !== 'json') return `placeholder {{${path}}} reads into ${root}.${field}, which is not a JSON object`;
  const member = rest.find((part) => inherited.has(part));
  if (member !== undefined) return `placeholder {{${path}}} names "${member}", which every object inherits; placeholders read the data's own fields only`;
  return undefined;
}

/** The first problem with a template's claims, as [path, problem], or undefined. */
export function claimsProblem(claims: unknown): [string, string] | undefined {
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) return ['claims', 'must be a JSON object'];
  for (const name of Object.keys(claims)) {
    if ((defaultClaims as readonly string[]).includes(name)) return [`claims.${name}`, `is a default claim every session token carries; a template cannot set it`];
  }
  const size = Buffer.byteLength(JSON.stringify(claims));
  if (size > maxClaimsBytes) return ['claims', `take ${size} bytes as JSON; a token's claims may take at most ${maxClaimsBytes}, so that it fits in an HTTP header`];
  const stack: [unknown, string][] = [[claims, 'claims']];
  while (stack.length) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      for (const match of value.matchAll(placeholder)) {
        const problem = pathProblem(match[1]!);
        if (problem) return [path, problem];
      }
      if (value.replace(placeholder, '').includes('{{')) return [path, 'has a {{ that is not a placeholder such as {{identity.traits.email}}'];
    } else if (Array.isArray(value)) value.forEach((item, i) => stack.push([item, `${path}[${i}]`]));
    else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) stack.push([item, `${path}.${key}`]);
  }
  return undefined;
}

/** A plain JSON object (what the database hands back for a JSON column), not an array or a class instance. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** The value at `path`: own data properties of plain objects only, null when there is none. */
function lookup(values: PlaceholderValues, path: string): unknown {
  let current: unknown = values;
  for (const part of path.split('.')) {
    if (!isPlainObject(current)) return null;
    const property = Object.getOwnPropertyDescriptor(current, part);
    if (!property || !('value' in property) || property.value === undefined) return null;
    current = property.value;
  }
  // A value that is not JSON (cannot come from the database; refused all the same) is none.
  return typeof current === 'function' || typeof current === 'symbol' || typeof current === 'bigint' ? null : current;
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
