// What a caller may do. Resolvers ask here rather than inspecting the caller themselves.
import { GraphQLError } from 'graphql';
import type { Context } from '../context.js';
import type { Caller } from './caller.js';

export function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
}

/** What a request without credentials gets when it asks for more than the schema. */
export function authenticationRequired(): GraphQLError {
  return new GraphQLError('Authentication required: send "Authorization: Basic …" (API token) or "Bearer …" (session token)', {
    extensions: { code: 'UNAUTHENTICATED' },
  });
}

export function requireCaller(ctx: Context): Caller {
  if (!ctx.caller) throw authenticationRequired();
  return ctx.caller;
}

/** Admin API clients only: operators' writes. */
export function requireAdmin(ctx: Context): void {
  const caller = requireCaller(ctx);
  if (caller.kind !== 'apiClient' || caller.scope !== 'ADMIN') {
    throw forbidden(caller.kind === 'session' ? 'This needs an admin API token, not a session' : 'This API token may only read');
  }
}

/**
 * The identity whose data the caller may see: a session sees its own identity only; an API client
 * sees every identity (null).
 */
export function visibleIdentity(ctx: Context): string | null {
  const caller = requireCaller(ctx);
  return caller.kind === 'session' ? caller.identityId : null;
}

/** Admin metadata and credential details: API clients only. */
export function seesAdminData(ctx: Context): boolean {
  return ctx.caller?.kind === 'apiClient';
}

/** Signed operations: admins may act on any identity, a session on its own. */
export function mayActFor(ctx: Context, identityId: string): boolean {
  const caller = requireCaller(ctx);
  if (caller.kind === 'session') return caller.identityId === identityId;
  return caller.scope === 'ADMIN';
}
