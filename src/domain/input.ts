// Checks on input that a type system cannot express, for every caller of the domain (GraphQL
// mutations, the vendor routes). Each failure is a BAD_USER_INPUT naming the field
// (`input.expiresAt`), raised before anything is written.
import { badUserInput } from '../errors.js';

export function invalidField(field: string, problem: string) {
  return badUserInput(`${field}: ${problem}`, { field });
}

/** A JSON object (not an array, string or null). */
export function jsonObject(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidField(field, 'must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export function optionalJsonObject(value: unknown, field: string): Record<string, unknown> | undefined {
  return value === null || value === undefined ? undefined : jsonObject(value, field);
}

export function nonEmpty(value: string, field: string, maxLength = 1024): string {
  const trimmed = value.trim();
  if (!trimmed) throw invalidField(field, 'must not be empty');
  if (trimmed.length > maxLength) throw invalidField(field, `must be at most ${maxLength} characters`);
  return trimmed;
}

export function optionalText(value: string | null | undefined, field: string, maxLength = 1024): string | undefined {
  return value === null || value === undefined ? undefined : nonEmpty(value, field, maxLength);
}

export function future(value: Date | null | undefined, field: string, now: Date): Date | undefined {
  if (value === null || value === undefined) return undefined;
  if (value <= now) throw invalidField(field, `must be in the future (got ${value.toISOString()})`);
  return value;
}
