// Checks every input value before execution, in one pass, so hostile input costs a walk and not a
// query: lists longer than MAX_LIST_LENGTH, JSON nested deeper than MAX_INPUT_DEPTH, and strings
// PostgreSQL cannot store (U+0000, lone UTF-16 surrogates). Variables are walked along their
// declared types (variables the operation does not declare are never read, so never walked);
// literals in the document once per parsed document. Each refusal is a BAD_USER_INPUT naming the
// variable or argument.
import {
  GraphQLError,
  TypeInfo,
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { settlePendingSession } from '../auth/caller.js';
import type { LimitsConfig } from '../config.js';
import type { Context } from '../context.js';
import { jsonProblem, stringProblem } from '../text.js';

export type InputLimits = Pick<LimitsConfig, 'maxListLength' | 'maxInputDepth'>;

function refuse(message: string, where: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argument: where } });
}

/** A JSON (or other scalar) value: bounded and storable. */
function checkJson(value: unknown, where: string, limits: InputLimits): GraphQLError | undefined {
  const problem = jsonProblem(value, limits.maxInputDepth);
  if (!problem) return undefined;
  if (problem.startsWith('nests deeper')) return refuse(`${where} ${problem} (MAX_INPUT_DEPTH)`, where);
  return refuse(`${problem} (${where})`, where);
}

function tooLong(where: string, length: number, limits: InputLimits): GraphQLError {
  return refuse(`${where} has ${length} entries; at most ${limits.maxListLength} are allowed (MAX_LIST_LENGTH)`, where);
}

/** A variable's value along its declared type. Input object types here do not nest themselves. */
function checkValue(type: GraphQLInputType, value: unknown, where: string, limits: InputLimits): GraphQLError | undefined {
  if (value === null || value === undefined) return undefined;
  if (isNonNullType(type)) return checkValue(type.ofType, value, where, limits);
  if (isListType(type)) {
    if (!Array.isArray(value)) return checkValue(type.ofType, value, where, limits);
    if (value.length > limits.maxListLength) return tooLong(where, value.length, limits);
    for (let i = 0; i < value.length; i++) {
      // Checked under the list's name, and again under the entry's own only when refused: no
      // string is built per entry of a long list that passes.
      if (checkValue(type.ofType, value[i], where, limits)) return checkValue(type.ofType, value[i], `${where}[${i}]`, limits);
    }
    return undefined;
  }
  if (isInputObjectType(type)) {
    if (typeof value !== 'object' || Array.isArray(value)) return undefined; // coercion names it
    for (const field of Object.values(type.getFields())) {
      const fieldValue = (value as Record<string, unknown>)[field.name];
      if (checkValue(field.type, fieldValue, where, limits)) return checkValue(field.type, fieldValue, `${where}.${field.name}`, limits);
    }
    return undefined;
  }
  // JSON, _Any and every other scalar or enum: whatever shape it has, bounded and storable.
  return checkJson(value, where, limits);
}

function checkVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  limits: InputLimits,
): GraphQLError | undefined {
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
    if (!type || !(name in variables)) continue;
    const error = checkValue(type, variables[name], `$${name}`, limits);
    if (error) return error;
  }
  return undefined;
}

/** Literal values in the document: list lengths (JSON literals aside) and storable strings. */
function checkLiterals(schema: GraphQLSchema, document: DocumentNode, limits: InputLimits): GraphQLError | undefined {
  const typeInfo = new TypeInfo(schema);
  let found: GraphQLError | undefined;
  let argument = '';
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument(node) {
        argument = `argument "${node.name.value}"`;
      },
      ListValue(node) {
        const type = typeInfo.getInputType();
        const json = type && isScalarType(getNamedType(type)) && getNamedType(type)!.name === 'JSON';
        if (!found && !json && node.values.length > limits.maxListLength) found = tooLong(argument, node.values.length, limits);
      },
      StringValue(node) {
        const problem = stringProblem(node.value);
        if (!found && problem) found = refuse(`${problem} (${argument || 'a literal'})`, argument);
      },
    }),
  );
  return found;
}

export function inputChecksPlugin(limits: InputLimits): Plugin {
  // Yoga reuses the parsed document of a query it has seen: check each document's literals once.
  const literals = new WeakMap<DocumentNode, GraphQLError | null>();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      let error = literals.get(args.document);
      if (error === undefined) literals.set(args.document, (error = checkLiterals(args.schema, args.document, limits) ?? null));
      if (!error && args.variableValues) {
        const operation = args.document.definitions.find(
          (d: DefinitionNode): d is OperationDefinitionNode =>
            d.kind === 'OperationDefinition' && (!args.operationName || d.name?.value === args.operationName),
        );
        if (operation) error = checkVariables(args.schema, operation, args.variableValues as Record<string, unknown>, limits) ?? null;
      }
      if (!error) return;
      // Credentials are judged first, as for any request: a pending session token (planned reads) is settled before refusing.
      return settlePendingSession(args.contextValue as unknown as Context).then(() => setResultAndStopExecution({ errors: [error] }));
    },
  };
}
