import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import type { GraphQLError, ValidationContext, ValidationRule } from 'graphql';
import { QueryTooComplexError } from '../common/errors.js';

export interface QueryLimits {
  maxQueryDepth: number;
  maxQueryCost: number;
}

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

/** The limits every operation passes, over HTTP and over the websocket alike. */
export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  // By default the rules throw, which escapes validation as an internal error: report instead.
  const report = {
    propagateOnRejection: false,
    onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
  };
  return [
    maxDepthRule({ n: limits.maxQueryDepth, ignoreIntrospection: true, ...report }),
    costLimitRule({ maxCost: limits.maxQueryCost, ignoreIntrospection: true, ...report }),
    maxAliasesRule({ n: 30, ...report }),
    maxDirectivesRule({ n: 30, ...report }),
  ].map(tooComplex);
}
