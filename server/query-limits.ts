import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import type { GraphQLError, ValidationContext, ValidationRule } from 'graphql';
import { QueryTooComplexError } from '../services/errors.js';

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
            return (error: GraphQLError) => target.reportError(new QueryTooComplexError(error.message));
          }
          const value: unknown = Reflect.get(target, key, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
    );
}

/** The limits every operation passes, over HTTP and over the websocket alike. */
export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxQueryDepth, ignoreIntrospection: true }),
    costLimitRule({ maxCost: limits.maxQueryCost, ignoreIntrospection: true }),
    maxAliasesRule({ n: 30 }),
    maxDirectivesRule({ n: 30 }),
  ].map(tooComplex);
}
