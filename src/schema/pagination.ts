// The keyset pagination rules live in the domain (src/domain/pagination.ts), shared with the vendor routes.
export * from '../domain/pagination.js';
