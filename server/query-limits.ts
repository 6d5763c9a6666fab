import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  coerceInputValue,
  getNamedType,
  getNullableType,
  getOperationAST,
  isInputObjectType,
  isInputType,
  isLeafType,
  isListType,
  typeFromAST,
  GraphQLError,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { BadUserInputError, QueryTooComplexError } from '../common/errors.js';

export interface QueryLimits {
  maxQueryDepth: number;
  maxQueryCost: number;
}

/** Arguments that say how many items a field answers. */
const PAGE_ARGUMENTS = ['first', 'last', 'limit'] as const;
/**
 * The largest page a list serves (products and orderEvents: 1000); the field itself refuses a
 * larger one with BAD_USER_INPUT, which says more than a cost would.
 */
const LARGEST_PAGE = 1000;
/**
 * What a list with no page argument counts as (channels, reports, stock alerts): they are
 * bounded by the catalog or a date range, not by the orders.
 */
const UNPAGED_LIST_SIZE = 100;
/** Fields, fragments and inline fragments one operation may hold before its cost is even added up. */
const MAX_QUERY_NODES = 10_000;
/** A JSON value is a stored platform payload, about a kilobyte: the size of some twenty plain fields. */
const JSON_VALUE_COST = 20;
/**
 * Fields that call out of the hub, by schema coordinate: a carrier's tracking API costs a reader's wait and
 * the merchant's quota, fifty plain fields' worth. (By name, not a resolver's `complexity`: the served schema
 * is rebuilt from its SDL for federation, which keeps no field extensions.)
 */
const CALL_OUT_COSTS: Readonly<Record<string, number>> = { 'Shipment.liveTracking': 50 };

/** Makes a rule's rejections carry the contract's QUERY_TOO_COMPLEX code. */
function tooComplex(rule: ValidationRule): ValidationRule {
  return (context: ValidationContext) =>
    rule(
      new Proxy(context, {
        get(target, key, receiver) {
          if (key === 'reportError') {
            return (error: GraphQLError) =>
              target.reportError(new QueryTooComplexError(error.message.replace(/^Syntax Error: /, '')));
          }
          const value: unknown = Reflect.get(target, key, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
    );
}

/**
 * The shape limits every operation passes, over HTTP and over the websocket alike. The cost
 * needs the variables, so it is checked apart: `assertQueryCost`.
 */
export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  // By default the rules throw, which escapes validation as an internal error: report instead.
  const report = {
    propagateOnRejection: false,
    onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
  };
  return [
    maxDepthRule({ n: limits.maxQueryDepth, ignoreIntrospection: true, ...report }),
    maxAliasesRule({ n: 30, ...report }),
    maxDirectivesRule({ n: 30, ...report }),
  ].map(tooComplex);
}

/**
 * Every field costs 1 plus what is selected under it (a JSON payload more); a list costs that
 * once per item it may answer: its page argument as the operation gives it (variables and
 * defaults applied), so nested lists multiply. A connection's `edges` are the page its field
 * already counted.
 */
const pageCost: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  // Introspection (the IDE's schema) reads no data.
  if (field.name.startsWith('__')) return 0;
  const each = 1 + childComplexity;
  const pageArgument = PAGE_ARGUMENTS.find((name) => typeof args[name] === 'number');
  if (pageArgument) return Math.min(LARGEST_PAGE, Math.max(0, args[pageArgument] as number)) * each;
  // A page argument given as null: the resolver serves its own default, which may be large.
  if (field.args.some((arg) => (PAGE_ARGUMENTS as readonly string[]).includes(arg.name))) {
    return LARGEST_PAGE * each;
  }
  // A federation router's batch (`_entities`): one item per representation it sends.
  if (field.name === '_entities' && Array.isArray(args.representations))
    return args.representations.length * each;
  if (getNamedType(field.type).name === 'JSON') return JSON_VALUE_COST;
  const callOut = CALL_OUT_COSTS[`${type.name}.${field.name}`];
  if (callOut !== undefined) return callOut + childComplexity;
  if (!isListType(getNullableType(field.type))) return each;
  if (isLeafType(getNamedType(field.type))) return 1;
  if (field.name === 'edges' && type.name.endsWith('Connection')) return each;
  return UNPAGED_LIST_SIZE * each;
};

/** Throws QUERY_TOO_COMPLEX when the operation, with these variables, costs more than `maxQueryCost`. */
export function assertQueryCost(
  schema: GraphQLSchema,
  limits: QueryLimits,
  request: {
    document: DocumentNode;
    variables?: Record<string, unknown> | null;
    operationName?: string | null;
  },
): void {
  const cost = queryCost(schema, request);
  if (cost > limits.maxQueryCost) {
    throw new QueryTooComplexError(
      `This query costs ${cost}, above the limit of ${limits.maxQueryCost}: ask for smaller pages (first) or fewer fields.`,
    );
  }
}

/** The operation's cost with its variables; a query whose cost cannot be computed is refused. */
export function queryCost(
  schema: GraphQLSchema,
  request: {
    document: DocumentNode;
    variables?: Record<string, unknown> | null;
    operationName?: string | null;
  },
): number {
  assertVariablesCoerce(schema, request);
  try {
    return getComplexity({
      schema,
      query: request.document,
      variables: request.variables ?? {},
      operationName: request.operationName ?? undefined,
      estimators: [pageCost],
      maxQueryNodes: MAX_QUERY_NODES,
    });
  } catch (err) {
    if (!(err instanceof GraphQLError)) throw err;
    if (/maximum allowed number of nodes/.test(err.message)) {
      throw new QueryTooComplexError(`This query has more than ${MAX_QUERY_NODES} fields.`);
    }
    // A variable or argument of the wrong type: execution would refuse it the same way.
    throw new BadUserInputError(err.message);
  }
}

/** What graphql-js says of an input object that tells no value: an unknown or missing field, not an object. */
const SAFE_PROBLEM =
  /^(Field "[^"]*" (is not defined by type|of required type)|Expected type "[^"]*" to be an object\.)/;

/**
 * Refuses a variable that does not fit its type, saying which variable and field and what was expected but
 * never the value: graphql-js quotes the value ("got invalid value {...}"), and a value may be a secret
 * (setChannelApi's appSecret). Run before anything else coerces the variables.
 */
function assertVariablesCoerce(
  schema: GraphQLSchema,
  request: {
    document: DocumentNode;
    variables?: Record<string, unknown> | null;
    operationName?: string | null;
  },
): void {
  const operation = getOperationAST(request.document, request.operationName ?? undefined);
  const variables = request.variables ?? {};
  for (const definition of operation?.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const type = typeFromAST(schema, definition.type);
    // Missing and null variables: graphql-js's own messages quote no value.
    if (!type || !isInputType(type) || variables[name] == null) continue;
    let problem: string | null = null;
    coerceInputValue(variables[name], type, (path, _value, error) => {
      const at = [name, ...path].join('.');
      problem ??= SAFE_PROBLEM.test(error.message)
        ? `Variable "$${name}" got an invalid value at "${at}": ${error.message}`
        : `Variable "$${name}" got an invalid value at "${at}": expected ${getNamedType(typeAt(type, path)).name}.`;
    });
    if (problem) throw new BadUserInputError(problem, name);
  }
}

/** The type expected at `path` inside a value of `type`. */
function typeAt(type: GraphQLInputType, path: readonly (string | number)[]): GraphQLInputType {
  let current = type;
  for (const key of path) {
    const inner = getNullableType(current);
    if (isListType(inner)) current = inner.ofType as GraphQLInputType;
    else if (isInputObjectType(inner) && typeof key === 'string')
      current = inner.getFields()[key]?.type ?? current;
  }
  return current;
}
