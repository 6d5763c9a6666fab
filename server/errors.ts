import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import type { Logger } from './logger.js';
import { HubError, type ErrorCode } from '../services/errors.js';

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

/**
 * What a client sees of an error: a contract code and a message it can act on. An
 * unexpected error is logged in full with the request id and reaches the client as
 * INTERNAL_SERVER_ERROR, with no stack trace, SQL or driver message.
 */
export function formatHubError(
  formatted: GraphQLFormattedError,
  error: unknown,
  requestId: string,
  logger: Logger,
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const hubError = original instanceof HubError ? original : findHubError(error);
  if (hubError && hubError.code !== 'INTERNAL_SERVER_ERROR') {
    return {
      ...formatted,
      message: hubError.message,
      extensions: { ...hubError.extensions, code: hubError.code },
    };
  }
  const code = formatted.extensions?.code;
  if (!hubError && typeof code === 'string' && CLIENT_MISTAKES.has(code) && isGraphQLLevel(error)) {
    return { ...formatted, extensions: { code: 'BAD_USER_INPUT' satisfies ErrorCode } };
  }
  if (hubError) {
    return { ...formatted, message: hubError.message, extensions: { code: hubError.code, requestId } };
  }
  logger.error({ err: original, requestId, path: formatted.path }, 'unexpected error');
  return {
    message: `Internal server error; quote request id ${requestId} when reporting it.`,
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR' satisfies ErrorCode, requestId },
  };
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
