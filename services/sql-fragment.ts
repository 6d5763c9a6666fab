/**
 * A piece of SQL with its values, built with the `sql` tag: each interpolated value becomes a `?` placeholder
 * (MikroORM's `execute` style) and a nested fragment is spliced in with its own values, so placeholders and
 * values stay in step however a statement is put together.
 */
export class SqlFragment {
  constructor(
    readonly text: string,
    readonly params: readonly unknown[],
  ) {}
}

export function sql(strings: TemplateStringsArray, ...values: unknown[]): SqlFragment {
  let text = strings[0];
  const params: unknown[] = [];
  values.forEach((value, i) => {
    if (value instanceof SqlFragment) {
      text += value.text;
      params.push(...value.params);
    } else {
      text += '?';
      params.push(value);
    }
    text += strings[i + 1];
  });
  return new SqlFragment(text, params);
}

/** Trusted SQL text (identifiers and keywords the code chose), with no values. */
export function rawSql(text: string): SqlFragment {
  return new SqlFragment(text, []);
}

export function joinSql(parts: readonly SqlFragment[], separator: string): SqlFragment {
  return new SqlFragment(
    parts.map((part) => part.text).join(separator),
    parts.flatMap((part) => part.params),
  );
}
