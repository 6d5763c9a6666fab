import { Decimal } from 'decimal.js';
import type { OrderStatus } from '../common/enums.js';
import { PayloadMappingError } from '../common/errors.js';
import type { CanonicalLine, PullProtocol } from './canonical.js';

// The connectors' shared toolkit: a path-aware reader for untrusted payloads, exact money, platform
// times, and the pieces every pull protocol needs. Every failure is a PayloadMappingError naming the
// field, never a TypeError.

/** The path of the payload itself; its members are named without it (`orders.order[1].num`). */
const ROOT = '$';

/** Exact money: precision high enough that no product of a price and a quantity is ever rounded. */
const Money = Decimal.clone({ precision: 64, rounding: Decimal.ROUND_HALF_UP });
export type Money = Decimal;

/** Times outside this range are a unit mix-up (seconds read as milliseconds, or the reverse), not an order. */
const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(2100, 0, 1);
/** The largest time a Date can hold, in milliseconds either side of 1970. */
const MAX_DATE = 8.64e15;

const SHANGHAI_OFFSET_MINUTES = 8 * 60;
const SHANGHAI_LOCAL = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const ISO_8601_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):?(\d{2}))$/;
const DECIMAL = /^\d+(?:\.\d+)?$/;
const NEGATIVE_DECIMAL = /^-\d+(?:\.\d+)?$/;

/** A platform status value → the canonical status; null holds the order where it is. */
export type StatusTable = Readonly<Record<string, OrderStatus | null>>;

/** A short, safe description of a value for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return value.length > 40
        ? `a string starting ${JSON.stringify(value.slice(0, 40))}`
        : JSON.stringify(value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}

/** One value of a payload and the path it was found at. */
export class Field {
  private constructor(
    readonly value: unknown,
    readonly path: string,
  ) {}

  /** The payload itself; it must be a JSON object. */
  static root(payload: unknown): Field {
    const root = new Field(payload, ROOT);
    root.record();
    return root;
  }

  /** Undefined, null and blank strings all count as "not sent". */
  get isAbsent(): boolean {
    return (
      this.value === undefined ||
      this.value === null ||
      (typeof this.value === 'string' && !this.value.trim())
    );
  }

  fail(problem: string): never {
    throw new PayloadMappingError(this.path, problem);
  }

  private missing(): never {
    if (this.path === ROOT) this.fail(`must be a JSON object, got ${describe(this.value)}`);
    this.fail(typeof this.value === 'string' ? 'is empty' : 'is missing');
  }

  /** This field, or null when it was not sent (or was sent as one of `alsoAbsent`, e.g. a pay time of 0). */
  optional(...alsoAbsent: unknown[]): Field | null {
    return this.isAbsent || alsoAbsent.includes(this.value) ? null : this;
  }

  /** This field as an object. */
  record(): Record<string, unknown> {
    if (this.isAbsent) this.missing();
    if (typeof this.value !== 'object' || Array.isArray(this.value)) {
      this.fail(`must be an object, got ${describe(this.value)}`);
    }
    return this.value as Record<string, unknown>;
  }

  /** A member of this object (which must be an object); own members only, so `__proto__` is just absent. */
  get(key: string): Field {
    const record = this.record();
    const value = Object.hasOwn(record, key) ? record[key] : undefined;
    return new Field(value, this.path === ROOT ? key : `${this.path}.${key}`);
  }

  /** Like `get`, but on an absent object gives an absent member: for optional objects such as masked copies. */
  optionalGet(key: string): Field {
    return this.isAbsent
      ? new Field(undefined, this.path === ROOT ? key : `${this.path}.${key}`)
      : this.get(key);
  }

  /** This field as an array of fields. */
  items(): Field[] {
    if (this.isAbsent) this.missing();
    if (!Array.isArray(this.value)) this.fail(`must be an array, got ${describe(this.value)}`);
    return this.value.map((item: unknown, index) => new Field(item, `${this.path}[${index}]`));
  }

  /** The order lines in this array, each mapped by `toLine`; an order without lines is an error. */
  lines(toLine: (item: Field) => CanonicalLine): CanonicalLine[] {
    const items = this.items();
    if (items.length === 0) this.fail('has no lines: an order needs at least one');
    return items.map(toLine);
  }

  /** A non-blank string, trimmed. */
  text(): string {
    if (this.isAbsent) this.missing();
    if (typeof this.value !== 'string') this.fail(`must be a string, got ${describe(this.value)}`);
    return this.value.trim();
  }

  /** A trimmed string, or null when not sent. */
  optionalText(): string | null {
    return this.optional()?.text() ?? null;
  }

  /**
   * An identifier as a string: a string as it is, or a JSON number that is a safe integer. A bigger number was
   * already changed by JSON.parse, so it is refused rather than stored wrong; `stringForm` names the field
   * that carries the same id as a string.
   */
  id(stringForm?: string): string {
    if (this.isAbsent) this.missing();
    if (typeof this.value === 'string') return this.value.trim();
    if (typeof this.value !== 'number')
      this.fail(`must be an id (a string or an integer), got ${describe(this.value)}`);
    if (!Number.isInteger(this.value) || this.value < 0)
      this.fail(`must be an id, got ${describe(this.value)}`);
    if (!Number.isSafeInteger(this.value)) {
      this.fail(
        `is a number beyond 2^53 that JSON parsing has already changed (read as ${this.value}), so the id ` +
          `cannot be trusted${stringForm ? `; send ${stringForm}` : ''}`,
      );
    }
    return String(this.value);
  }

  /** An identifier as a string, or null when not sent. */
  optionalId(): string | null {
    return this.optional()?.id() ?? null;
  }

  /** A quantity: an integer of at least 1; with `fromString`, a string of digits such as JD's "2" too. */
  positiveInt(options: { fromString?: boolean } = {}): number {
    if (this.isAbsent) this.missing();
    let quantity = this.value;
    if (options.fromString && typeof quantity === 'string' && /^\s*\d+\s*$/.test(quantity)) {
      quantity = Number(quantity);
    }
    if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 1) {
      this.fail(`must be a positive integer, got ${describe(this.value)}`);
    }
    return quantity;
  }

  /** An amount sent as a decimal string ("129.90"). */
  decimalText(): Money {
    if (this.isAbsent) this.missing();
    if (typeof this.value !== 'string') {
      this.fail(`must be a decimal amount as a string such as "129.90", got ${describe(this.value)}`);
    }
    const text = this.value.trim();
    if (NEGATIVE_DECIMAL.test(text)) this.fail(`must not be negative, got ${describe(this.value)}`);
    if (!DECIMAL.test(text))
      this.fail(`must be a decimal amount such as "129.90", got ${describe(this.value)}`);
    return this.cents(new Money(text));
  }

  /** An amount in yuan sent as a JSON number (a double such as Pinduoduo's 45.9), read from its shortest text. */
  decimalNumber(): Money {
    if (this.isAbsent) this.missing();
    if (typeof this.value !== 'number' || !Number.isFinite(this.value)) {
      this.fail(`must be an amount as a number such as 45.9, got ${describe(this.value)}`);
    }
    if (this.value < 0) this.fail(`must not be negative, got ${this.value}`);
    // String(45.9) is "45.9": the double's shortest round-trip text, never its binary expansion.
    return this.cents(new Money(String(this.value)));
  }

  /** An amount in fen (cents) sent as an integer: 12990 is 129.90. */
  fen(): Money {
    if (this.isAbsent) this.missing();
    if (typeof this.value !== 'number' || !Number.isFinite(this.value)) {
      this.fail(`must be an amount in fen as an integer, got ${describe(this.value)}`);
    }
    if (this.value < 0) this.fail(`must not be negative, got ${this.value}`);
    if (!Number.isSafeInteger(this.value)) this.fail(`must be a whole number of fen, got ${this.value}`);
    return new Money(this.value).dividedBy(100);
  }

  private cents(amount: Money): Money {
    if (amount.decimalPlaces() > 2) this.fail(`has more than two decimal places: ${describe(this.value)}`);
    return amount;
  }

  /** A local time "YYYY-MM-DD HH:mm:ss" in Asia/Shanghai (UTC+8, no daylight saving). */
  shanghaiTime(): Date {
    if (this.isAbsent) this.missing();
    const match = typeof this.value === 'string' ? SHANGHAI_LOCAL.exec(this.value.trim()) : null;
    let time: number | null = null;
    if (match) {
      const [, y, mo, d, h, mi, s] = match;
      time = utc(+y, +mo, +d, +h, +mi, +s, 0, SHANGHAI_OFFSET_MINUTES);
    }
    if (time === null) {
      this.fail(`must be a time "YYYY-MM-DD HH:mm:ss" in Asia/Shanghai, got ${describe(this.value)}`);
    }
    return this.plausible(time);
  }

  /** An ISO 8601 time with its offset ("2026-11-11T20:15:32+08:00"); a time without one is refused, not guessed. */
  isoTime(): Date {
    if (this.isAbsent) this.missing();
    const match = typeof this.value === 'string' ? ISO_8601_WITH_OFFSET.exec(this.value.trim()) : null;
    let time: number | null = null;
    if (match) {
      const [, y, mo, d, h, mi, s, fraction, sign, oh, om] = match;
      const offset = sign ? (sign === '-' ? -1 : 1) * (+oh * 60 + +om) : 0;
      const ms = fraction ? +fraction.slice(0, 3).padEnd(3, '0') : 0;
      time = +oh > 23 || +om > 59 ? null : utc(+y, +mo, +d, +h, +mi, +s, ms, offset);
    }
    if (time === null) {
      this.fail(
        `must be an ISO 8601 time with an offset such as "2026-11-11T20:15:32+08:00", got ${describe(this.value)}`,
      );
    }
    return this.plausible(time);
  }

  /** Unix time in seconds, as an integer. */
  unixSeconds(): Date {
    return this.plausible(this.unixInteger('seconds') * 1000);
  }

  /** Unix time in milliseconds, as an integer. */
  unixMillis(): Date {
    return this.plausible(this.unixInteger('milliseconds'));
  }

  private unixInteger(unit: string): number {
    if (this.isAbsent) this.missing();
    if (typeof this.value !== 'number' || !Number.isSafeInteger(this.value)) {
      this.fail(`must be a unix time in ${unit} (an integer), got ${describe(this.value)}`);
    }
    return this.value;
  }

  private plausible(time: number): Date {
    if (time < EARLIEST || time >= LATEST) {
      const when = Math.abs(time) <= MAX_DATE ? new Date(time).toISOString() : 'beyond any date';
      this.fail(`is ${when}, outside 2000–2099: the value or its unit is wrong`);
    }
    return new Date(time);
  }

  /** The canonical status for this status field, by `table`; the platform's own value kept as a string. */
  status(table: StatusTable): { status: OrderStatus | null; platformStatus: string } {
    return { status: this.lookup(table), platformStatus: this.code() };
  }

  /** The canonical status `table` gives this field's value; a value the table does not know is an error. */
  lookup(table: StatusTable): OrderStatus | null {
    const code = this.code();
    if (!Object.hasOwn(table, code)) this.fail(`has an unknown status ${describe(this.value)}`);
    return table[code];
  }

  /** A status code: a non-blank string or an integer, as a string. */
  code(): string {
    if (this.isAbsent) this.missing();
    if (typeof this.value === 'string') return this.value.trim();
    if (typeof this.value === 'number' && Number.isSafeInteger(this.value)) return String(this.value);
    this.fail(`must be a status code (a string or an integer), got ${describe(this.value)}`);
  }
}

/** Milliseconds since the epoch for a calendar time at `offsetMinutes` east of UTC; null when no such time exists. */
function utc(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  offsetMinutes: number,
): number | null {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return null;
  // Date.UTC reads years 0–99 as 1900–1999; those are refused as implausible afterwards anyway.
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000;
}

/** The first of `fields` that was sent, as text; null when none was (plain field first, then masked copies). */
export function firstText(...fields: Field[]): string | null {
  for (const field of fields) {
    const text = field.optionalText();
    if (text !== null) return text;
  }
  return null;
}

/** The first of `fields` that was sent, as text; when none was, an error naming the first. */
export function requiredText(...fields: [Field, ...Field[]]): string {
  const text = firstText(...fields);
  if (text !== null) return text;
  const others = fields.slice(1).map((field) => field.path);
  return fields[0].fail(others.length ? `is missing, and so are ${others.join(', ')}` : 'is missing');
}

/** A code of `length` capital letters: an ISO 3166 country (2) or ISO 4217 currency (3). */
export function isoCode(field: Field, length: 2 | 3): string {
  const code = field.text();
  if (!(code.length === length && /^[A-Z]+$/.test(code))) {
    field.fail(`must be an ISO code of ${length} capital letters, got ${describe(code)}`);
  }
  return code;
}

/** An exact amount as the canonical two-decimal string. */
export function money(amount: Money): string {
  return amount.toFixed(2);
}

/** A canonical line; the line total is unit price × quantity unless the platform sends its own. */
export function line(
  productCode: string | null,
  platformSkuId: string | null,
  quantity: number,
  unitPrice: Money,
  lineTotal: Money = unitPrice.times(quantity),
): CanonicalLine {
  return { productCode, platformSkuId, quantity, unitPrice: money(unitPrice), lineTotal: money(lineTotal) };
}

/** The order total: the platform's own when it sends one (it may include freight and discounts), else the lines' sum. */
export function orderTotal(platformTotal: Money | null | undefined, lines: readonly CanonicalLine[]): string {
  return money(platformTotal ?? lines.reduce((sum, { lineTotal }) => sum.plus(lineTotal), new Money(0)));
}

// ---- pull protocols ----

/** A GET for one page: `path` under `baseUrl` (trailing slashes ignored), with the parameters that are not null. */
export function getPage(
  baseUrl: string,
  path: string,
  params: Record<string, string | null>,
): ReturnType<PullProtocol['request']> {
  const query = Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== null)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
  return {
    url: `${baseUrl.replace(/\/+$/, '')}${path}${query ? `?${query}` : ''}`,
    init: { method: 'GET', headers: { accept: 'application/json' } },
  };
}

/** A reply's next cursor: a string or an integer; null, absent or blank means "no more now". */
export function nextCursor(field: Field): string | null {
  return field.optional()?.id() ?? null;
}

/** A page's orders, kept raw: each is mapped (and may fail) on its own, so one bad order never loses a page. */
export function rawOrders(field: Field): unknown[] {
  if (field.value === undefined || field.value === null) field.fail('is missing');
  if (!Array.isArray(field.value)) field.fail(`must be an array of orders, got ${describe(field.value)}`);
  return [...(field.value as unknown[])];
}

/**
 * A phone the customer can be reached at, for notices: null when it is masked (`138****1234`) or sealed by the
 * platform (Youzan's `$…$1$`), which reach no one.
 */
export function contactPhone(phone: string | null): string | null {
  if (phone === null || /[*$#]/.test(phone)) return null;
  return (phone.match(/\d/g)?.length ?? 0) >= 6 ? phone : null;
}
