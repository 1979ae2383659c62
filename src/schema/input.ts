// The input checks live in the domain layer (src/domain/input.ts), shared by the resolvers and the
// planned writes; the schema's mutations import them from here.
export * from '../domain/input.js';
