import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import type { Logger } from './logger.js';
import { HubError, QueryTimeoutError, type ErrorCode } from '../common/errors.js';

/** Codes graphql-js and Apollo give to a request the client got wrong; they reach clients as BAD_USER_INPUT. */
const CLIENT_MISTAKES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** PostgreSQL's code for a statement cancelled by statement_timeout. */
const QUERY_CANCELED = '57014';

/** The error a client caused or may act on, if this is one. */
function hubErrorOf(error: unknown): HubError | undefined {
  const original = unwrapResolverError(error);
  if (original instanceof HubError) return original;
  if ((original as { code?: unknown } | null)?.code === QUERY_CANCELED) return new QueryTimeoutError();
  return findHubError(error);
}

function isClientMistake(formatted: GraphQLFormattedError, error: unknown): boolean {
  const code = formatted.extensions?.code;
  return typeof code === 'string' && CLIENT_MISTAKES.has(code) && isGraphQLLevel(error);
}

/**
 * What a client sees of an error: a contract code and a message it can act on. An
 * unexpected error reaches the client as INTERNAL_SERVER_ERROR with the request id,
 * with no stack trace, SQL or driver message; `logUnexpected` writes it in full.
 */
export function formatHubError(
  formatted: GraphQLFormattedError,
  error: unknown,
  requestId: string,
): GraphQLFormattedError {
  return withoutValues(formatHubErrorWithValues(formatted, error, requestId));
}

/**
 * graphql-js quotes the value it cannot coerce, a variable's or a literal's written in the query, and a value
 * may be a secret (setChannelApi's appSecret): such a message keeps which variable or what type was expected,
 * never the value. (The query limits refuse most bad variables first with a fuller message.)
 */
const QUOTING_VALUES: [RegExp, string][] = [
  [/^(Variable "\$[^"]*" got invalid value)[\s\S]*$/, '$1 (not repeated here).'],
  // Literals: "Expected value of type "String", found {…}", "String cannot represent a non string value: 123",
  // "Enum "Platform" cannot represent non-enum value: "x"", "Value "x" does not exist in "Platform" enum."
  [
    /^(Expected value of type "[^"]*"), found [\s\S]*$/,
    '$1, found a value of another type (not repeated here).',
  ],
  [
    /^((?:\w+|Enum "[^"]*") cannot represent [\w\s-]*value): [\s\S]*$/,
    '$1 (the value written is not repeated here).',
  ],
  [
    /^Value "[\s\S]*" does not exist in ("[^"]*" enum)\.[\s\S]*$/,
    'A value that does not exist in $1 was written (not repeated here).',
  ],
];

function withoutValues(formatted: GraphQLFormattedError): GraphQLFormattedError {
  for (const [pattern, replacement] of QUOTING_VALUES) {
    if (pattern.test(formatted.message)) {
      return { ...formatted, message: formatted.message.replace(pattern, replacement) };
    }
  }
  return formatted;
}

function formatHubErrorWithValues(
  formatted: GraphQLFormattedError,
  error: unknown,
  requestId: string,
): GraphQLFormattedError {
  const hubError = hubErrorOf(error);
  if (hubError && hubError.code !== 'INTERNAL_SERVER_ERROR') {
    return {
      ...formatted,
      message: hubError.message,
      extensions: { ...hubError.extensions, code: hubError.code },
    };
  }
  if (!hubError && isClientMistake(formatted, error)) {
    return { ...formatted, extensions: { code: 'BAD_USER_INPUT' satisfies ErrorCode } };
  }
  if (hubError) {
    return { ...formatted, message: hubError.message, extensions: { code: hubError.code, requestId } };
  }
  return {
    message: `Internal server error; quote request id ${requestId} when reporting it.`,
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR' satisfies ErrorCode, requestId },
  };
}

/**
 * Logs, with the request id, every error that is the hub's own failure: not one with a code of its own
 * (the client's mistake, an operation NOT_AVAILABLE yet, a subscriber that fell behind), nor a request
 * graphql-js refused.
 */
export function logUnexpected(errors: readonly GraphQLError[], requestId: string, logger: Logger): void {
  for (const error of errors) {
    const hubError = hubErrorOf(error);
    const expected = hubError
      ? hubError.code !== 'INTERNAL_SERVER_ERROR'
      : isClientMistake(error.toJSON(), error);
    // Not the hub's fault, but worth seeing: which requests outgrow their role's statement_timeout.
    if (hubError?.code === 'QUERY_TIMEOUT') {
      logger.warn({ requestId, path: error.path }, 'a request ran past its statement_timeout');
      continue;
    }
    if (expected) continue;
    logger.error({ err: unwrapResolverError(error), requestId, path: error.path }, 'unexpected error');
  }
}

function findHubError(error: unknown): HubError | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof HubError) return current;
    current = (current as { originalError?: unknown }).originalError;
  }
  return undefined;
}

/** A parse, validation or variable error made by graphql-js itself, not one thrown while resolving. */
function isGraphQLLevel(error: unknown): boolean {
  if (!(error instanceof GraphQLError)) return false;
  const original = error.originalError;
  return !original || original instanceof GraphQLError || original instanceof TypeError;
}
