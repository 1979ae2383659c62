// Reads one vendor JSON object field by field, checking each and remembering which fields it took,
// so that the fields nobody took can be kept (vendorExtra) instead of dropped. Every problem names
// the record and the field: `data[0].expiresAt: expected an ISO 8601 date-time, got "<dateTime>"`.

import { jsonProblem, stringProblem } from '../text.js';
import { parseIsoDateTime } from '../time.js';

export class ImportError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'ImportError';
  }
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// API reference examples use `<uuid>`, `<dateTime>`, `<string>`: never real data.
const placeholder = /^<[a-zA-Z ]+>$/;
// Clerk's times are Unix milliseconds; anything before 2000 (0 above all) is a placeholder.
const earliestMillis = Date.UTC(2000, 0, 1);
// PostgreSQL (and every vendor) stops at year 9999.
const latestMillis = Date.UTC(10000, 0, 1);

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

interface StringOptions {
  required?: boolean;
  pattern?: RegExp;
  expected?: string;
  /** Ids that are indexed must stay well under PostgreSQL's index entry size. */
  maxLength?: number;
}

/** The longest free text a vendor field may carry (a tokenized JWT fits many times over). */
const maxTextLength = 65_536;
/** Vendor ids and other indexed strings. */
export const maxIdLength = 255;
const maxJsonDepth = 32;

export class RecordReader {
  private readonly taken = new Set<string>();

  constructor(
    readonly value: Record<string, unknown>,
    readonly path: string,
  ) {}

  static of(value: unknown, path: string): RecordReader {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ImportError(path, `expected a JSON object, got ${show(value)}`);
    }
    return new RecordReader(value as Record<string, unknown>, path);
  }

  fail(name: string, problem: string): never {
    throw new ImportError(`${this.path}.${name}`, problem);
  }

  private raw(name: string, required: boolean): unknown {
    this.taken.add(name);
    const value = this.value[name];
    if ((value === undefined || value === null) && required) this.fail(name, 'is required');
    return value ?? undefined;
  }

  string(name: string, options: StringOptions & { required: true }): string;
  string(name: string, options?: StringOptions): string | undefined;
  string(name: string, options: StringOptions = {}): string | undefined {
    const value = this.raw(name, options.required ?? false);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') this.fail(name, `expected a string, got ${show(value)}`);
    const maxLength = options.maxLength ?? maxTextLength;
    if (value.length > maxLength) this.fail(name, `must be at most ${maxLength} characters, got ${value.length}`);
    const problem = stringProblem(value);
    if (problem) this.fail(name, problem);
    if (placeholder.test(value)) this.fail(name, `${show(value)} is a documentation placeholder, not a value`);
    if (options.pattern && !options.pattern.test(value)) {
      this.fail(name, `expected ${options.expected ?? `a value matching ${options.pattern}`}, got ${show(value)}`);
    }
    return value;
  }

  uuid(name: string, options: { required?: boolean; prefix?: string } = {}): string | undefined {
    const prefix = options.prefix ?? '';
    const value = this.string(name, {
      required: options.required,
      pattern: new RegExp(`^${prefix}[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, 'i'),
      expected: `${prefix ? `"${prefix}<uuid>"` : 'a UUID'}`,
    });
    return value;
  }

  dateTime(name: string, options: { required?: boolean } = {}): Date | undefined {
    const value = this.string(name, { required: options.required });
    if (value === undefined) return undefined;
    return parseIsoDateTime(value) ?? this.fail(name, `expected a real ISO 8601 date-time (years 1 to 9999), got ${show(value)}`);
  }

  unixMillis(name: string, options: { required?: boolean } = {}): Date | undefined {
    const value = this.raw(name, options.required ?? false);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.fail(name, `expected Unix time in milliseconds, got ${show(value)}`);
    }
    if (value < earliestMillis || value >= latestMillis) {
      this.fail(name, `${value} is not a plausible Unix time in milliseconds (before 2000 or after 9999)`);
    }
    return new Date(value);
  }

  boolean(name: string, options: { required?: boolean } = {}): boolean | undefined {
    const value = this.raw(name, options.required ?? false);
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') this.fail(name, `expected true or false, got ${show(value)}`);
    return value;
  }

  integer(name: string, options: { required?: boolean } = {}): number | undefined {
    const value = this.raw(name, options.required ?? false);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < -2_147_483_648 || value > 2_147_483_647) {
      this.fail(name, `expected a whole number from -2147483648 to 2147483647, got ${show(value)}`);
    }
    return value;
  }

  oneOf<T extends string>(name: string, mapping: Record<string, T>, options: { required?: boolean } = {}): T | undefined {
    const value = this.string(name, options);
    if (value === undefined) return undefined;
    const mapped = mapping[value];
    if (mapped === undefined) this.fail(name, `expected one of ${Object.keys(mapping).join(', ')}, got ${show(value)}`);
    return mapped;
  }

  /** Any JSON object (metadata, traits, actor). */
  object(name: string, options: { required?: boolean } = {}): Record<string, unknown> | undefined {
    const value = this.raw(name, options.required ?? false);
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) this.fail(name, `expected a JSON object, got ${show(value)}`);
    const problem = jsonProblem(value, maxJsonDepth);
    if (problem) this.fail(name, problem);
    return value as Record<string, unknown>;
  }

  /** Each element of an array, as a reader at `name[i]`. */
  records(name: string): RecordReader[] {
    const value = this.raw(name, false);
    if (value === undefined) return [];
    if (!Array.isArray(value)) this.fail(name, `expected a list, got ${show(value)}`);
    return value.map((item, i) => RecordReader.of(item, `${this.path}.${name}[${i}]`));
  }

  /** A nested object as a reader. */
  record(name: string, options: { required?: boolean } = {}): RecordReader | undefined {
    const value = this.raw(name, options.required ?? false);
    return value === undefined ? undefined : RecordReader.of(value, `${this.path}.${name}`);
  }

  strings(name: string): string[] {
    const value = this.raw(name, false);
    if (value === undefined) return [];
    if (!Array.isArray(value)) this.fail(name, `expected a list of strings, got ${show(value)}`);
    return value.map((item, i) => {
      if (typeof item !== 'string') this.fail(`${name}[${i}]`, `expected a string, got ${show(item)}`);
      const problem = stringProblem(item);
      if (problem) this.fail(`${name}[${i}]`, problem);
      if (placeholder.test(item)) this.fail(`${name}[${i}]`, `${show(item)} is a documentation placeholder, not a value`);
      return item;
    });
  }

  /** Marks fields as understood without reading them (derived or constant ones). */
  skip(...names: string[]): void {
    for (const name of names) this.taken.add(name);
  }

  /** The fields no reader took, to keep as vendorExtra; undefined when there are none. */
  rest(): Record<string, unknown> | undefined {
    const rest = Object.fromEntries(Object.entries(this.value).filter(([key]) => !this.taken.has(key)));
    return Object.keys(rest).length ? rest : undefined;
  }
}

export { uuidPattern };
