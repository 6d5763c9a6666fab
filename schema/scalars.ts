import { Decimal as DecimalJs } from 'decimal.js';
import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { GraphQLJSON } from 'graphql-scalars';

const DECIMAL = /^-?\d{1,20}(\.\d{1,10})?$/;

/** Exact money: a string such as "129.90" in and out, never a binary float. */
export const DecimalScalar = new GraphQLScalarType<string, string>({
  name: 'Decimal',
  description: 'An exact decimal number as a string, such as "129.90".',
  serialize(value) {
    if (typeof value === 'string' && DECIMAL.test(value)) return value;
    if (value instanceof DecimalJs) return value.toFixed();
    throw new TypeError(`Decimal cannot represent ${String(value)}`);
  },
  parseValue(value) {
    // Integers are exact in JSON; fractions must come as strings, since a JSON number has already lost them.
    if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
    if (typeof value === 'string' && DECIMAL.test(value.trim())) return value.trim();
    throw new TypeError(`Decimal must be a string such as "129.90", got ${JSON.stringify(value)}`);
  },
  parseLiteral(ast: ValueNode) {
    // A literal in the query text is exact, whatever its kind.
    if (
      (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT) &&
      DECIMAL.test(ast.value)
    ) {
      return ast.value;
    }
    throw new TypeError('Decimal must be a string such as "129.90"');
  },
});

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

function parseDateTime(value: unknown): Date {
  if (typeof value === 'string' && ISO_WITH_ZONE.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new TypeError(
    `DateTime must be an ISO 8601 time with a zone, such as "2026-11-11T00:00:00+08:00", got ${JSON.stringify(value)}`,
  );
}

/** An instant: ISO 8601 in UTC out; in, any ISO 8601 time that names its zone. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO 8601 date and time with its zone; always answered in UTC.',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(value as string);
    if (Number.isNaN(date.getTime())) throw new TypeError(`DateTime cannot represent ${String(value)}`);
    return date.toISOString();
  },
  parseValue: parseDateTime,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new TypeError('DateTime must be a string');
    return parseDateTime(ast.value);
  },
});

export const JSONScalar = GraphQLJSON;
