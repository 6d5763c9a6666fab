import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import contentType from 'content-type';
import {
  Kind,
  parse,
  valueFromASTUntyped,
  type DirectiveNode,
  type FieldNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * Fake platform gateways for the stock sync's tests and benchmarks (so no vitest here): one real HTTP
 * server on 127.0.0.1 per platform that checks each call as docs/stock-sync.md says the real gateway does
 * (path, HTTP method, content type, method name, every parameter, the signature recomputed from the
 * request, the token, the timestamp window) and keeps its own stock per SKU. Where the document pins a
 * reply, the fake answers exactly that; what it leaves open is marked (guess) below.
 *
 * Calls are atomic: a call with one bad SKU in it changes nothing. Faults strike only write calls that
 * passed the gateway's checks (a fault is the platform failing, not the caller). A call takes the latency to
 * be processed and is decided at its end, so an accepted write is under way from its arrival until it is
 * applied: `FakeCall.arrivedAt` and `appliedAt` (Date.now(), the clock PostgreSQL reads on this machine)
 * let a test see two writes to one SKU overlap, and which targets were current when a value landed.
 */

/**
 * `applyLate`: the gateway stops answering (the caller times out) but processes the write `lateMs` later,
 * as a real gateway does with a request its caller gave up on; the socket is dropped once it is applied.
 */
export type FakeFault = 'error5xx' | 'hang' | 'throttle' | 'loseReply' | 'refuseReduction' | 'applyLate';

export interface FakeSku {
  itemId: string;
  skuId: string;
  /** Shopify only: the location of this inventory level. */
  locationId?: string;
  quantity: number;
}

export interface FakeCredentials {
  appKey?: string;
  appSecret?: string;
  accessToken?: string;
  shopId?: string;
  /** Taobao and Kuaishou: when set, the only sign method the fake accepts. */
  signMethod?: string;
}

export type FakePlatformName = 'TAOBAO' | 'JD' | 'PINDUODUO' | 'DOUYIN' | 'KUAISHOU' | 'YOUZAN' | 'SHOPIFY';

export interface FakePlatformOptions {
  platform: FakePlatformName;
  /** What the fake accepts. */
  credentials: FakeCredentials;
  /** Unknown SKUs get the platform's "unknown item/SKU" refusal. */
  skus?: FakeSku[];
  /** Every reply waits this long (default 0). */
  latencyMs?: number;
  /** A random fault on write calls with probability `rate`. */
  faults?: { rate: number; kinds: FakeFault[] } | null;
  /** For the random faults (default Math.random). */
  random?: () => number;
  /** The wait a throttle reply announces where the platform says one (default 1). */
  throttleSeconds?: number;
  /**
   * How long after it stops answering an `applyLate` write is applied (default 1500: one and a half times
   * the 1 s deadline the stock sync's tests give the hub, so the hub has given up and moved on by then).
   */
  lateMs?: number;
  /** Default 2 hours. */
  youzanTokenTtlMs?: number;
  /** Default 1000 points, restoring 50 a second. */
  shopifyBudget?: { maximum: number; restorePerSecond: number };
  /** The platform's wall clock, for timestamp windows, token expiry and Shopify's budget (default Date.now). */
  now?: () => number;
}

export interface FakeCall {
  /** The platform's method name (the GraphQL root field for Shopify, `auth/token` for Youzan's token). */
  method: string;
  /** A call that asks to change stock. */
  write: boolean;
  /** The platform accepted the call (a write applied, a read or token answered). */
  accepted: boolean;
  /** Why it was not accepted: the platform's code and text, or the fault. */
  error?: string;
  skus: string[];
  fault?: FakeFault;
  /** When the request reached the fake (Date.now()). */
  arrivedAt: number;
  /** When an accepted write was applied (Date.now()); until then (an `applyLate` one) undefined. */
  appliedAt?: number;
  /** What an accepted write did to each SKU it names (a value set again to the same number included). */
  changes?: FakeChange[];
}

export interface FakeChange {
  skuId: string;
  locationId?: string;
  before: number;
  after: number;
}

export interface FakePlatform {
  readonly platform: FakePlatformName;
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  /** What the platform shows now for the SKU (Shopify: skuId is the inventoryItemId, plus locationId). */
  quantity(skuId: string, locationId?: string): number | undefined;
  /** Every value the SKU has held, in order, the initial one first (a value held again is listed again). */
  history(skuId: string, locationId?: string): number[];
  /** Every request that reached the fake (reads, writes, token calls). */
  readonly calls: FakeCall[];
  /** Write calls that were accepted (not faults, not refused): a lost reply's write counts, it applied. */
  writes(): number;
  /** `applyLate` writes not processed yet: the platform may still change a SKU on its own. */
  pendingLate(): number;
  addSku(sku: FakeSku): void;
  /** A sale or a person editing on the platform: changes the SKU's stock without the hub. */
  setQuantity(skuId: string, quantity: number, locationId?: string): void;
  /** The next `times` write calls (default 1) that pass the gateway's checks get this fault, before any random ones. */
  failNext(kind: FakeFault, times?: number): void;
  setFaults(faults: FakePlatformOptions['faults']): void;
  /** Refuse any reduction of this SKU (a promotion slot), with the platform's refusal; `false` lifts it. */
  refuseReductions(skuId: string, refuse: boolean, locationId?: string): void;
  /** Closes the server and destroys every connection, hanging ones included; late writes never land. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Stock

interface Stock {
  sku: FakeSku;
  history: number[];
  refuseReductions: boolean;
}

interface Change {
  stock: Stock;
  to: number;
}

class Ledger {
  private readonly stocks = new Map<string, Stock>();

  /** Shopify keeps a level per inventory item and location; the others one number per SKU. */
  constructor(private readonly byLocation: boolean) {}

  add(sku: FakeSku): void {
    if (this.byLocation && !sku.locationId) throw new Error(`Shopify SKU ${sku.skuId} needs a locationId.`);
    checkQuantity(sku.quantity);
    const key = this.key(sku.skuId, sku.locationId);
    if (this.stocks.has(key)) throw new Error(`SKU ${sku.skuId} is there already.`);
    this.stocks.set(key, { sku: { ...sku }, history: [sku.quantity], refuseReductions: false });
  }

  find(skuId: string, locationId?: string): Stock | undefined {
    return this.stocks.get(this.key(skuId, locationId));
  }

  get(skuId: string, locationId?: string): Stock {
    const stock = this.find(skuId, locationId);
    if (!stock) throw new Error(`The fake has no SKU ${skuId}${locationId ? ` at ${locationId}` : ''}.`);
    return stock;
  }

  all(): Stock[] {
    return [...this.stocks.values()];
  }

  set(stock: Stock, to: number): void {
    checkQuantity(to);
    if (to !== quantityOf(stock)) stock.history.push(to);
  }

  private key(skuId: string, locationId: string | undefined): string {
    return this.byLocation ? `${skuId}\u0000${locationId ?? ''}` : skuId;
  }
}

const quantityOf = (stock: Stock) => stock.history[stock.history.length - 1];

function checkQuantity(quantity: number): void {
  if (!Number.isSafeInteger(quantity) || quantity < 0) throw new Error(`Not a stock quantity: ${quantity}.`);
}

/** One SKU's part of a call: an absolute number, or a change to add. */
interface Update {
  skuId: string;
  /** The item the call names the SKU under; undefined where the platform names SKUs alone (JD). */
  itemId?: string;
  value: number;
  incremental: boolean;
}

type RefusalReason = 'unknown-item' | 'unknown-sku' | 'reduction' | 'below-zero';

interface Refusal {
  reason: RefusalReason;
  skuId: string;
  itemId?: string;
}

/**
 * What a call would change, or why the platform refuses it whole. A reduction is refused when the SKU
 * refuses reductions or the `refuseReduction` fault strikes the call; an incremental result below zero is
 * floored (`floorAtZero`, Taobao) or refused.
 */
function planUpdates(
  ledger: Ledger,
  updates: Update[],
  refuseAll: boolean,
  floorAtZero = false,
): { changes: Change[] } | { refusal: Refusal } {
  const changes: Change[] = [];
  for (const update of updates) {
    const { skuId, itemId } = update;
    if (itemId !== undefined && !ledger.all().some((s) => s.sku.itemId === itemId)) {
      return { refusal: { reason: 'unknown-item', skuId, itemId } };
    }
    const stock = ledger.find(skuId);
    if (!stock || (itemId !== undefined && stock.sku.itemId !== itemId)) {
      return { refusal: { reason: 'unknown-sku', skuId, itemId } };
    }
    const current = quantityOf(stock);
    let to = update.incremental ? current + update.value : update.value;
    if (to < 0) {
      if (!floorAtZero) return { refusal: { reason: 'below-zero', skuId, itemId } };
      to = 0;
    }
    if (to < current && (refuseAll || stock.refuseReductions)) {
      return { refusal: { reason: 'reduction', skuId, itemId } };
    }
    changes.push({ stock, to });
  }
  return { changes };
}

/** The SKU an item without variants stands for when a call names no SKU (Taobao, Youzan). */
const skuOrItem = (skuId: string | undefined, itemId: string) => skuId ?? itemId;

// ---------------------------------------------------------------------------------------------------------
// HTTP and encodings

/** A reply as the gateway sends it. */
interface Reply {
  status: number;
  body: string;
  type: string;
}

const json = (value: unknown, status = 200): Reply => ({
  status,
  body: JSON.stringify(value),
  type: 'application/json;charset=UTF-8',
});
const plain = (status: number, body: string): Reply => ({ status, body, type: 'text/plain;charset=UTF-8' });

interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the fake learns of a call as it reads it, for its record even when the call is refused halfway. */
interface Note {
  method: string;
  write: boolean;
  skus: string[];
}

/** The gateway refused the call before anything could change. */
class Refused extends Error {
  constructor(
    readonly reply: Reply,
    readonly code: string,
  ) {
    super(code);
  }
}

const notFound = () => new Refused(plain(404, 'Not Found'), 'HTTP 404');

function expectPost(req: Request): void {
  if (req.method !== 'POST') throw new Refused(plain(405, 'Method Not Allowed'), 'HTTP 405');
}

/** The media type must be `type`; a charset, when given, UTF-8. */
function expectType(req: Request, type: string): void {
  let parsed: contentType.ParsedMediaType;
  try {
    parsed = contentType.parse(req.headers['content-type'] ?? '');
  } catch {
    throw new Refused(plain(415, 'Unsupported Media Type'), 'HTTP 415');
  }
  const charset = parsed.parameters.charset?.toLowerCase();
  if (parsed.type !== type || (charset !== undefined && charset !== 'utf-8')) {
    throw new Refused(plain(415, 'Unsupported Media Type'), 'HTTP 415');
  }
}

/** Form fields; a field sent twice is refused (which one would be signed?). */
function formFields(body: string, duplicate: (name: string) => Refused): Map<string, string> {
  const fields = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(body)) {
    if (fields.has(name)) throw duplicate(name);
    fields.set(name, value);
  }
  return fields;
}

/** A JSON number as its source text, so that ids beyond 2^53 keep every digit and a sign can be recomputed. */
class JsonNumber {
  constructor(readonly source: string) {}
}

/** JSON.parse with numbers as JsonNumber; undefined when the text is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
      typeof value === 'number' ? new JsonNumber(context?.source ?? String(value)) : value,
    );
  } catch {
    return undefined;
  }
}

/** JSON with every object's keys sorted, no spaces, numbers as sent: what Douyin's param_json must be. */
function canonicalJson(value: unknown): string {
  if (value instanceof JsonNumber) return value.source;
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort(byBytes);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof JsonNumber);

const INTEGER = /^-?(0|[1-9]\d*)$/;
const DIGITS = /^\d+$/;

/** An integer from a JSON number (or, where `text` allows, from its digits as a string). */
function integerOf(value: unknown, text = false): number | undefined {
  const source =
    value instanceof JsonNumber ? value.source : text && typeof value === 'string' ? value : null;
  if (source === null || !INTEGER.test(source)) return undefined;
  const n = Number(source);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * An id from JSON. Where the document writes it as a number (`numeric`), an all-digit id must come as a
 * JSON number; an id with other characters (readable ids in tests) comes as a string.
 */
function idOf(value: unknown, numeric: boolean): string | undefined {
  if (value instanceof JsonNumber) return DIGITS.test(value.source) ? value.source : undefined;
  if (typeof value !== 'string' || value === '') return undefined;
  return numeric && DIGITS.test(value) ? undefined : value;
}

/** JSON.rawJSON (Node 21+): writes the digits of a large id into the JSON text as a number, verbatim. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** An id as the platform writes it back: a JSON number when it is all digits. */
const idJson = (id: string): unknown => (/^(0|[1-9]\d*)$/.test(id) ? rawJSON(id) : id);

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** TOP style: every parameter but `sign`, sorted by name, as name1value1name2value2… */
const sortedConcat = (params: Iterable<[string, string]>) =>
  [...params]
    .filter(([name]) => name !== 'sign')
    .sort(([a], [b]) => byBytes(a, b))
    .map(([name, value]) => name + value)
    .join('');

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');
const hmac = (algorithm: 'md5' | 'sha256', key: string, text: string) =>
  createHmac(algorithm, key).update(text, 'utf8');

const GMT8_MS = 8 * 3_600_000;
const TIMESTAMP_WINDOW_MS = 10 * 60_000;

/** `yyyy-MM-dd HH:mm:ss` in GMT+8. */
const gmt8 = (ms: number) => new Date(ms + GMT8_MS).toISOString().slice(0, 19).replace('T', ' ');

/** Whether a `yyyy-MM-dd HH:mm:ss` GMT+8 timestamp is a real time within ±10 minutes of now. */
function timestampInWindow(text: string, now: number): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return false;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) - GMT8_MS;
  return gmt8(ms) === text && Math.abs(now - ms) <= TIMESTAMP_WINDOW_MS;
}

const requestId = () => randomBytes(8).toString('hex');

// ---------------------------------------------------------------------------------------------------------
// Dialects

/** A write that passed the gateway's checks: faults may strike it, then `run` decides against the stock. */
interface Write {
  /** The platform's "too many calls" reply. */
  throttled(): Refused;
  /** The reply and the changes, or the refusal (`refuseAll`: the refuseReduction fault struck). */
  run(refuseAll: boolean): { reply: Reply; changes: Change[] } | Refused;
}

/** Reads the call: a Write, a Reply (a read or a token, answered), or throws Refused. */
type Dialect = (req: Request, note: Note) => Write | Reply;

interface DialectContext {
  credentials: FakeCredentials;
  ledger: Ledger;
  now: () => number;
  throttleSeconds: number;
  youzanTokenTtlMs: number;
  shopifyBudget: { maximum: number; restorePerSecond: number };
}

function required(credentials: FakeCredentials, platform: string, names: (keyof FakeCredentials)[]) {
  const missing = names.filter((name) => !credentials[name]);
  if (missing.length > 0) throw new Error(`A fake ${platform} needs credentials ${missing.join(', ')}.`);
  return credentials as Required<FakeCredentials>;
}

const refusalText: Record<RefusalReason, (r: Refusal) => string> = {
  'unknown-item': (r) => `The item ${r.itemId} does not exist`,
  'unknown-sku': (r) => `The SKU ${r.skuId} does not exist${r.itemId ? ` in item ${r.itemId}` : ''}`,
  reduction: (r) => `The SKU ${r.skuId} is in a promotion: its stock cannot be reduced`,
  'below-zero': (r) => `The change would take SKU ${r.skuId} below zero`,
};

// Taobao (TOP). Codes other than 7, 15, 25, 27 and 31 are TOP's published ones (guess that they apply).
function taobao(ctx: DialectContext): Dialect {
  const creds = required(ctx.credentials, 'TAOBAO', ['appKey', 'appSecret', 'accessToken']);
  const refuse = (code: number, msg: string, sub?: [string, string]) =>
    new Refused(
      json({
        error_response: {
          code,
          msg,
          ...(sub && { sub_code: sub[0], sub_msg: sub[1] }),
          request_id: requestId(),
        },
      }),
      `${code} ${sub ? sub[0] : msg}`,
    );
  const missing = (name: string) => refuse(40, 'Missing required arguments', ['isv.missing-parameter', name]);
  const invalid = (name: string) => refuse(41, 'Invalid arguments', ['isv.invalid-parameter', name]);
  const subCodes: Record<RefusalReason, string> = {
    'unknown-item': 'isv.item-not-exist',
    'unknown-sku': 'isv.sku-not-exist',
    reduction: 'isv.item-quantity-reduce-forbidden',
    'below-zero': 'isv.invalid-parameter',
  };
  const refusal = (r: Refusal) =>
    refuse(15, 'Remote service error', [subCodes[r.reason], refusalText[r.reason](r)]);
  const signers: Record<string, (text: string) => string> = {
    md5: (text) => md5(creds.appSecret + text + creds.appSecret),
    hmac: (text) => hmac('md5', creds.appSecret, text).digest('hex'),
    'hmac-sha256': (text) => hmac('sha256', creds.appSecret, text).digest('hex'),
  };

  return (req, note) => {
    if (req.path !== '/' || [...req.query].length > 0) throw notFound();
    expectPost(req);
    expectType(req, 'application/x-www-form-urlencoded');
    const form = formFields(req.body, invalid);
    const method = form.get('method');
    if (!method) throw refuse(21, 'Missing method');
    note.method = method;
    note.write = method === 'taobao.skus.quantity.update' || method === 'taobao.item.quantity.update';
    const appKey = form.get('app_key');
    if (!appKey) throw refuse(28, 'Missing app key');
    if (appKey !== creds.appKey) throw refuse(29, 'Invalid app key');
    const sign = form.get('sign');
    if (!sign) throw refuse(24, 'Missing signature');
    // TOP signs with md5 when the request names no method.
    const signMethod = form.get('sign_method') ?? 'md5';
    if (!Object.hasOwn(signers, signMethod)) throw invalid('sign_method');
    if (
      (ctx.credentials.signMethod && signMethod !== ctx.credentials.signMethod) ||
      signers[signMethod](sortedConcat(form)).toUpperCase() !== sign
    ) {
      throw refuse(25, 'Invalid signature');
    }
    const timestamp = form.get('timestamp');
    if (!timestamp) throw refuse(30, 'Missing timestamp');
    if (!timestampInWindow(timestamp, ctx.now())) throw refuse(31, 'Invalid timestamp');
    const session = form.get('session');
    if (!session) throw refuse(26, 'Missing session');
    if (session !== creds.accessToken) throw refuse(27, 'Invalid session');
    const version = form.get('v');
    if (!version) throw refuse(32, 'Missing version');
    if (version !== '2.0') throw refuse(33, 'Invalid version');
    if (form.get('format') !== 'json') throw refuse(23, 'Invalid format');
    if (!note.write) throw refuse(22, 'Invalid method');

    const itemId = form.get('num_iid');
    if (!itemId) throw missing('num_iid');
    const type = form.get('type') ?? '1';
    if (type !== '1' && type !== '2') throw invalid('type');
    const incremental = type === '2';
    const quantityOfText = (text: string, name: string) => {
      const n = INTEGER.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(n) || (!incremental && n < 0)) throw invalid(name);
      return n;
    };
    const updates: Update[] = [];
    if (method === 'taobao.skus.quantity.update') {
      const pairs = form.get('skuid_quantities');
      if (!pairs) throw missing('skuid_quantities');
      for (const pair of pairs.split(';')) {
        const m = /^([^:;]+):(.+)$/.exec(pair);
        if (!m || updates.some((u) => u.skuId === m[1])) throw invalid('skuid_quantities');
        updates.push({ skuId: m[1], itemId, value: quantityOfText(m[2], 'skuid_quantities'), incremental });
      }
      if (updates.length > 20) throw invalid('skuid_quantities');
    } else {
      const quantity = form.get('quantity');
      if (quantity === undefined) throw missing('quantity');
      const skuId = form.get('sku_id') || undefined;
      updates.push({
        skuId: skuOrItem(skuId, itemId),
        itemId,
        value: quantityOfText(quantity, 'quantity'),
        incremental,
      });
    }
    note.skus = updates.map((u) => u.skuId);

    return {
      throttled: () =>
        refuse(7, 'App Call Limited', [
          'accesscontrol.limited-by-app-access-count',
          `This ban will last for ${ctx.throttleSeconds} more seconds`,
        ]),
      run: (refuseAll) => {
        const plan = planUpdates(ctx.ledger, updates, refuseAll, true);
        if ('refusal' in plan) return refusal(plan.refusal);
        const modified = gmt8(ctx.now());
        if (method === 'taobao.skus.quantity.update') {
          const skus = plan.changes.map((c) => ({ sku_id: idJson(c.stock.sku.skuId), quantity: c.to }));
          return {
            changes: plan.changes,
            reply: json({
              skus_quantity_update_response: {
                item: { num_iid: idJson(itemId), modified, skus: { sku: skus } },
              },
            }),
          };
        }
        // `num` is the item's total once the change is made.
        const [change] = plan.changes;
        const num = ctx.ledger
          .all()
          .filter((s) => s.sku.itemId === itemId)
          .reduce((sum, s) => sum + (s === change.stock ? change.to : quantityOf(s)), 0);
        return {
          changes: plan.changes,
          reply: json({
            item_quantity_update_response: { item: { num_iid: idJson(itemId), num, modified } },
          }),
        };
      },
    };
  };
}

// JD (JOS). Code 15 for a stale timestamp is a guess; 50 also answers a parameter the gateway refuses.
function jd(ctx: DialectContext): Dialect {
  const creds = required(ctx.credentials, 'JD', ['appKey', 'appSecret', 'accessToken']);
  const METHOD = 'jingdong.stock.write.updateSkuStock';
  const refuse = (code: string, zh: string, en: string) =>
    new Refused(json({ error_response: { code, zh_desc: zh, en_desc: en } }), `${code} ${en}`);
  const badSign = () => refuse('14', '签名错误', 'Invalid signature');
  const invalid = (name: string) => refuse('50', `参数错误: ${name}`, `Invalid parameter: ${name}`);

  return (req, note) => {
    if (req.path !== '/' || [...req.query].length > 0) throw notFound();
    expectPost(req);
    expectType(req, 'application/x-www-form-urlencoded');
    const form = formFields(req.body, invalid);
    note.method = form.get('method') ?? '';
    note.write = note.method === METHOD;
    for (const name of ['method', 'app_key', 'access_token', 'timestamp', 'v', '360buy_param_json', 'sign']) {
      if (!form.get(name)) throw invalid(name);
    }
    // The gateway knows no secret for another app: its sign cannot check out.
    if (form.get('app_key') !== creds.appKey) throw badSign();
    if (md5(creds.appSecret + sortedConcat(form) + creds.appSecret).toUpperCase() !== form.get('sign')) {
      throw badSign();
    }
    if (!timestampInWindow(form.get('timestamp')!, ctx.now())) {
      throw refuse('15', '时间戳错误', 'Invalid timestamp');
    }
    if (form.get('access_token') !== creds.accessToken) {
      throw refuse('19', 'token无效', 'Invalid access_token');
    }
    if (form.get('v') !== '2.0') throw invalid('v');
    if (!note.write) throw refuse('50', '方法不存在', `Unknown method ${note.method}`);
    const m = /^\{"skuId":"([^"\\]+)","stockNum":(0|[1-9]\d*)\}$/.exec(form.get('360buy_param_json')!);
    if (!m || !Number.isSafeInteger(Number(m[2]))) throw invalid('360buy_param_json');
    const update: Update = { skuId: m[1], value: Number(m[2]), incremental: false };
    note.skus = [update.skuId];

    return {
      throttled: () => refuse('2', '调用超限', 'App Call Limited'),
      run: (refuseAll) => {
        const plan = planUpdates(ctx.ledger, [update], refuseAll);
        if ('refusal' in plan) {
          return refuse('50', '业务错误', refusalText[plan.refusal.reason](plan.refusal));
        }
        return {
          changes: plan.changes,
          reply: json({ jingdong_stock_write_updateSkuStock_responce: { code: '0', success: true } }),
        };
      },
    };
  };
}

// Pinduoduo. 10000 for a parameter the gateway refuses is a guess; a below-zero change is refused (guess).
function pinduoduo(ctx: DialectContext): Dialect {
  const creds = required(ctx.credentials, 'PINDUODUO', ['appKey', 'appSecret', 'accessToken']);
  const METHOD = 'pdd.goods.quantity.update';
  const refuse = (code: number, msg: string, subMsg = msg) =>
    new Refused(
      json({
        error_response: {
          error_code: code,
          error_msg: msg,
          sub_code: String(code),
          sub_msg: subMsg,
          request_id: requestId(),
        },
      }),
      `${code} ${subMsg}`,
    );
  const invalid = (name: string) => refuse(10000, '参数错误', `Invalid parameter: ${name}`);
  const badSign = () => refuse(10016, '签名错误');

  return (req, note) => {
    if (req.path !== '/' || [...req.query].length > 0) throw notFound();
    expectPost(req);
    expectType(req, 'application/json');
    const body = parseJson(req.body);
    if (!isRecord(body)) throw invalid('body');
    const params = new Map<string, string>();
    for (const [name, value] of Object.entries(body)) {
      if (value instanceof JsonNumber) params.set(name, value.source);
      else if (typeof value === 'string') params.set(name, value);
      else throw invalid(name);
    }
    note.method = params.get('type') ?? '';
    note.write = note.method === METHOD;
    for (const name of ['type', 'client_id', 'access_token', 'timestamp', 'data_type', 'sign']) {
      if (!params.get(name)) throw invalid(name);
    }
    if (params.get('client_id') !== creds.appKey) throw badSign();
    if (md5(creds.appSecret + sortedConcat(params) + creds.appSecret).toUpperCase() !== params.get('sign')) {
      throw badSign();
    }
    if (params.get('access_token') !== creds.accessToken) throw refuse(10019, 'access_token已过期');
    if (typeof body.timestamp !== 'string' || !DIGITS.test(body.timestamp)) throw invalid('timestamp');
    if (params.get('data_type') !== 'JSON') throw invalid('data_type');
    if (!note.write) throw refuse(10000, '接口不存在', `Unknown type ${note.method}`);
    const itemId = idOf(body.goods_id, false);
    const skuId = idOf(body.sku_id, false);
    const updateType = params.get('update_type') ?? '1';
    const quantity = integerOf(body.quantity, true);
    if (!itemId) throw invalid('goods_id');
    if (!skuId) throw invalid('sku_id');
    if (updateType !== '1' && updateType !== '2') throw invalid('update_type');
    const incremental = updateType === '2';
    if (quantity === undefined || (!incremental && quantity < 0)) throw invalid('quantity');
    const update: Update = { skuId, itemId, value: quantity, incremental };
    note.skus = [skuId];

    return {
      throttled: () => refuse(70031, '调用过于频繁'),
      run: (refuseAll) => {
        const plan = planUpdates(ctx.ledger, [update], refuseAll);
        if ('refusal' in plan) {
          return refuse(50007, '业务错误', refusalText[plan.refusal.reason](plan.refusal));
        }
        return {
          changes: plan.changes,
          reply: json({ goods_quantity_update_response: { is_success: true } }),
        };
      },
    };
  };
}

// Douyin. 30003 for a stale timestamp is a guess; 50002 also answers a parameter the gateway refuses.
function douyin(ctx: DialectContext): Dialect {
  const creds = required(ctx.credentials, 'DOUYIN', ['appKey', 'appSecret', 'accessToken']);
  const METHODS: Record<string, string> = {
    '/sku/syncStock': 'sku.syncStock',
    '/sku/syncStockBatch': 'sku.syncStockBatch',
  };
  const QUERY = ['app_key', 'method', 'v', 'timestamp', 'access_token', 'sign', 'sign_method'];
  const refuse = (code: number, message: string) =>
    new Refused(json({ err_no: code, message, data: null, log_id: requestId() }), `${code} ${message}`);
  const invalid = (what: string) => refuse(50002, `参数错误: ${what}`);
  /** Incremental calls already applied, by idempotent_id: a repeat succeeds without applying again. */
  const applied = new Set<string>();

  return (req, note) => {
    const method = METHODS[req.path];
    if (!Object.hasOwn(METHODS, req.path)) throw notFound();
    note.method = method;
    note.write = true;
    expectPost(req);
    expectType(req, 'application/json');
    const query = formFields(req.query.toString(), invalid);
    for (const name of query.keys()) if (!QUERY.includes(name)) throw invalid(name);
    for (const name of QUERY) if (!query.get(name)) throw invalid(name);
    if (query.get('app_key') !== creds.appKey) throw refuse(30001, '签名错误');
    if (query.get('method') !== method) throw invalid('method');
    if (query.get('v') !== '2') throw invalid('v');
    if (query.get('sign_method') !== 'hmac-sha256') throw invalid('sign_method');
    const timestamp = query.get('timestamp')!;
    const signed = `${creds.appSecret}app_key${creds.appKey}method${method}param_json${req.body}timestamp${timestamp}v2${creds.appSecret}`;
    if (hmac('sha256', creds.appSecret, signed).digest('hex') !== query.get('sign')) {
      throw refuse(30001, '签名错误');
    }
    if (!timestampInWindow(timestamp, ctx.now())) throw refuse(30003, '时间戳错误');
    if (query.get('access_token') !== creds.accessToken) throw refuse(30002, 'access_token无效');

    const param = parseJson(req.body);
    if (!isRecord(param)) throw invalid('param_json');
    if (canonicalJson(param) !== req.body) throw invalid('param_json: keys sorted at every level, no spaces');
    const batch = method === 'sku.syncStockBatch';
    const allowed = ['idempotent_id', 'incremental', 'product_id', batch ? 'sku_sync_list' : 'sku_id'];
    if (!batch) allowed.push('stock_num');
    for (const name of Object.keys(param)) if (!allowed.includes(name)) throw invalid(name);
    if (param.incremental !== undefined && typeof param.incremental !== 'boolean') {
      throw invalid('incremental');
    }
    const incremental = param.incremental === true;
    const idempotentId = param.idempotent_id;
    if (
      incremental
        ? typeof idempotentId !== 'string' || idempotentId === ''
        : !['string', 'undefined'].includes(typeof idempotentId)
    ) {
      throw invalid('idempotent_id');
    }
    const itemId = idOf(param.product_id, true);
    if (!itemId) throw invalid('product_id');
    const entries = batch ? param.sku_sync_list : [param];
    if (!Array.isArray(entries) || entries.length === 0) throw invalid('sku_sync_list');
    const updates = entries.map((entry: unknown): Update => {
      if (!isRecord(entry)) throw invalid('sku_sync_list');
      if (batch && Object.keys(entry).some((k) => k !== 'sku_id' && k !== 'stock_num')) {
        throw invalid('sku_sync_list');
      }
      const skuId = idOf(entry.sku_id, true);
      const value = integerOf(entry.stock_num);
      if (!skuId) throw invalid('sku_id');
      if (value === undefined || (!incremental && value < 0)) throw invalid('stock_num');
      return { skuId, itemId, value, incremental };
    });
    if (new Set(updates.map((u) => u.skuId)).size < updates.length) throw invalid('sku_sync_list');
    note.skus = updates.map((u) => u.skuId);
    const success = json({ err_no: 0, message: 'success', data: {}, log_id: requestId() });

    return {
      throttled: () => refuse(40001, '调用频率超限'),
      run: (refuseAll) => {
        if (incremental && applied.has(idempotentId as string)) return { changes: [], reply: success };
        const plan = planUpdates(ctx.ledger, updates, refuseAll);
        if ('refusal' in plan) return refuse(50002, refusalText[plan.refusal.reason](plan.refusal));
        if (incremental) applied.add(idempotentId as string);
        return { changes: plan.changes, reply: success };
      },
    };
  };
}

// Kuaishou. MD5 signs are lower-case hex (guess: the document says only "hex"); 400 for a parameter the
// gateway refuses is a guess.
function kuaishou(ctx: DialectContext): Dialect {
  const creds = required(ctx.credentials, 'KUAISHOU', ['appKey', 'appSecret', 'accessToken']);
  const METHODS: Record<string, string> = {
    '/open/item/sku/stock/update': 'open.item.sku.stock.update',
    '/open/item/get': 'open.item.get',
  };
  const SIGNED = ['access_token', 'appkey', 'method', 'param', 'signMethod', 'timestamp', 'version'];
  const refuse = (result: number, msg: string) =>
    new Refused(json({ result, msg, error_msg: msg }), `${result} ${msg}`);
  const invalid = (name: string) => refuse(400, `Invalid parameter: ${name}`);
  const badSign = () => refuse(401, 'Invalid sign');
  const signers: Record<string, (text: string) => string> = {
    MD5: (text) => md5(text),
    HMAC_SHA256: (text) => hmac('sha256', creds.appSecret, text).digest('base64'),
  };

  return (req, note) => {
    const method = METHODS[req.path];
    if (!Object.hasOwn(METHODS, req.path) || [...req.query].length > 0) throw notFound();
    note.method = method;
    note.write = method === 'open.item.sku.stock.update';
    expectPost(req);
    expectType(req, 'application/x-www-form-urlencoded');
    const form = formFields(req.body, invalid);
    for (const name of form.keys()) if (name !== 'sign' && !SIGNED.includes(name)) throw invalid(name);
    for (const name of [...SIGNED, 'sign']) if (!form.get(name)) throw invalid(name);
    if (form.get('appkey') !== creds.appKey) throw badSign();
    const signMethod = form.get('signMethod')!;
    if (!Object.hasOwn(signers, signMethod)) throw invalid('signMethod');
    const text = `${SIGNED.map((name) => `${name}=${form.get(name)}`).join('&')}&signSecret=${creds.appSecret}`;
    if (
      (ctx.credentials.signMethod && signMethod !== ctx.credentials.signMethod) ||
      signers[signMethod](text) !== form.get('sign')
    ) {
      throw badSign();
    }
    if (form.get('access_token') !== creds.accessToken) throw refuse(402, 'Invalid access_token');
    if (form.get('method') !== method) throw invalid('method');
    if (form.get('version') !== '1') throw invalid('version');
    if (!DIGITS.test(form.get('timestamp')!)) throw invalid('timestamp');
    const param = parseJson(form.get('param')!);
    if (!isRecord(param)) throw invalid('param');
    const itemId = idOf(param.kwaiItemId, true);
    if (!itemId) throw invalid('kwaiItemId');

    if (!note.write) {
      if (Object.keys(param).length !== 1) throw invalid('param');
      const skus = ctx.ledger.all().filter((s) => s.sku.itemId === itemId);
      if (skus.length === 0) {
        throw refuse(500, `The item ${itemId} does not exist`);
      }
      note.skus = skus.map((s) => s.sku.skuId);
      const skuList = skus.map((s) => ({ skuId: idJson(s.sku.skuId), skuStock: quantityOf(s) }));
      return json({ result: 1, msg: 'success', data: { kwaiItemId: idJson(itemId), skuList } });
    }

    const known = ['kwaiItemId', 'skuId', 'skuChangeStock', 'changeType'];
    for (const name of Object.keys(param)) if (!known.includes(name)) throw invalid(name);
    const skuId = idOf(param.skuId, true);
    const change = integerOf(param.skuChangeStock);
    const changeType = integerOf(param.changeType);
    if (!skuId) throw invalid('skuId');
    if (change === undefined || change <= 0) throw invalid('skuChangeStock');
    if (changeType !== 1 && changeType !== 2) throw invalid('changeType');
    const update: Update = { skuId, itemId, value: changeType === 1 ? change : -change, incremental: true };
    note.skus = [skuId];

    return {
      throttled: () => refuse(429, `Exceed qps limit, KEY [${method}], MAX_QPS [300.0]`),
      run: (refuseAll) => {
        const plan = planUpdates(ctx.ledger, [update], refuseAll);
        if ('refusal' in plan) return refuse(500, refusalText[plan.refusal.reason](plan.refusal));
        return { changes: plan.changes, reply: json({ result: 1, msg: 'success', data: {} }) };
      },
    };
  };
}

// Youzan. The token endpoint's refusal (code 40010) and 4000 for a parameter the gateway refuses are
// guesses; a below-zero incremental change is refused (guess).
function youzan(ctx: DialectContext): Dialect {
  const creds = required(ctx.credentials, 'YOUZAN', ['appKey', 'appSecret', 'shopId']);
  const UPDATE = '/api/youzan.item.quantity.update/3.0.0';
  const gateway = (code: number, msg: string) =>
    new Refused(json({ gw_err_resp: { err_code: code, err_msg: msg } }), `${code} ${msg}`);
  const business = (code: number, message: string) =>
    new Refused(json({ success: false, code, message }), `${code} ${message}`);
  const invalid = (name: string) => gateway(4000, `参数错误: ${name}`);
  /** Tokens issued, with when each expires. */
  const tokens = new Map<string, number>();

  const issueToken = (req: Request, note: Note): Reply => {
    note.method = 'auth/token';
    expectPost(req);
    expectType(req, 'application/json');
    const body = parseJson(req.body);
    if (!isRecord(body)) throw invalid('body');
    if (body.client_id !== creds.appKey || body.client_secret !== creds.appSecret) {
      throw business(40010, 'client_id 或 client_secret 无效');
    }
    if (body.authorize_type !== 'silent') throw invalid('authorize_type');
    const grant = body.grant_id instanceof JsonNumber ? body.grant_id.source : body.grant_id;
    if (grant !== creds.shopId) throw business(40010, 'grant_id 无效');
    const token = `yz${randomBytes(12).toString('hex')}`;
    const expires = ctx.now() + ctx.youzanTokenTtlMs;
    tokens.set(token, expires);
    return json({ success: true, code: 200, data: { access_token: token, expires } });
  };

  return (req, note) => {
    if (req.path === '/auth/token' && [...req.query].length === 0) return issueToken(req, note);
    if (req.path !== UPDATE) throw notFound();
    note.method = 'youzan.item.quantity.update';
    note.write = true;
    expectPost(req);
    const query = formFields(req.query.toString(), invalid);
    const token = query.get('access_token');
    if ([...query.keys()].some((name) => name !== 'access_token')) throw invalid('query');
    const expires = token ? tokens.get(token) : undefined;
    if (expires === undefined) throw gateway(4201, 'access_token 无效');
    if (ctx.now() >= expires) throw gateway(4203, 'access_token 已过期');
    expectType(req, 'application/json');
    const body = parseJson(req.body);
    if (!isRecord(body)) throw invalid('body');
    for (const name of Object.keys(body)) {
      if (!['item_id', 'sku_id', 'quantity', 'type'].includes(name)) throw invalid(name);
    }
    const itemId = idOf(body.item_id, true);
    const skuId = body.sku_id === undefined ? undefined : idOf(body.sku_id, true);
    const type = body.type === undefined ? 0 : integerOf(body.type);
    const quantity = integerOf(body.quantity);
    if (!itemId) throw invalid('item_id');
    if (skuId === undefined && body.sku_id !== undefined) throw invalid('sku_id');
    if (type !== 0 && type !== 1) throw invalid('type');
    if (quantity === undefined || (type === 0 && quantity < 0)) throw invalid('quantity');
    const update: Update = {
      skuId: skuOrItem(skuId, itemId),
      itemId,
      value: quantity,
      incremental: type === 1,
    };
    note.skus = [update.skuId];

    return {
      throttled: () => new Refused(json({ code: 4101, msg: '请求太频繁' }), '4101 请求太频繁'),
      run: (refuseAll) => {
        const plan = planUpdates(ctx.ledger, [update], refuseAll);
        if ('refusal' in plan) return business(141500101, refusalText[plan.refusal.reason](plan.refusal));
        return {
          changes: plan.changes,
          reply: json({ success: true, code: 200, message: 'successful', data: { is_success: true } }),
        };
      },
    };
  };
}

// Shopify (Admin GraphQL 2026-04). Guesses: a mutation without @idempotent gets a top-level BAD_REQUEST
// error; a reused key with other input gets IDEMPOTENCY_KEY_PARAMETER_MISMATCH as a top-level error; a
// refused reduction is user error NON_MUTABLE_INVENTORY_ITEM; a read costs 11 points (10 + 1 quantity).
function shopify(ctx: DialectContext): Dialect {
  const creds = required(ctx.credentials, 'SHOPIFY', ['accessToken']);
  const PATH = '/admin/api/2026-04/graphql.json';
  const budget = { available: ctx.shopifyBudget.maximum, at: ctx.now() };
  /** First results by idempotency key, with the input they answered. */
  const idempotent = new Map<string, { input: string; data: unknown; refused: string | null }>();

  const refill = () => {
    const now = ctx.now();
    const { maximum, restorePerSecond } = ctx.shopifyBudget;
    budget.available = Math.min(maximum, budget.available + ((now - budget.at) / 1000) * restorePerSecond);
    budget.at = now;
  };
  const cost = (requested: number, actual: number | null) => ({
    cost: {
      requestedQueryCost: requested,
      actualQueryCost: actual,
      throttleStatus: {
        maximumAvailable: ctx.shopifyBudget.maximum,
        currentlyAvailable: Math.floor(budget.available),
        restoreRate: ctx.shopifyBudget.restorePerSecond,
      },
    },
  });
  const queryError = (message: string, code?: string) =>
    new Refused(json({ errors: [{ message, ...(code && { extensions: { code } }) }] }), code ?? message);
  const throttled = (requested: number) =>
    new Refused(
      json({
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
        extensions: cost(requested, null),
      }),
      'THROTTLED',
    );
  /** Takes the call's cost from the budget, or refuses it as THROTTLED when the budget cannot cover it. */
  const charge = (requested: number) => {
    refill();
    if (budget.available < requested) throw throttled(requested);
    budget.available -= requested;
  };

  return (req, note) => {
    if (req.path !== PATH || [...req.query].length > 0) {
      throw new Refused(json({ errors: 'Not Found' }, 404), 'HTTP 404');
    }
    expectPost(req);
    if (req.headers['x-shopify-access-token'] !== creds.accessToken) {
      throw new Refused(
        json({ errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' }, 401),
        'HTTP 401',
      );
    }
    expectType(req, 'application/json');
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch {
      body = undefined;
    }
    if (!isRecord(body) || typeof body.query !== 'string') {
      throw new Refused(
        json({ errors: { query: 'Required parameter missing or invalid' } }, 400),
        'HTTP 400',
      );
    }
    const variables = body.variables ?? {};
    if (!isRecord(variables)) throw queryError('variables must be an object');
    let operation: OperationDefinitionNode;
    try {
      const operations = parse(body.query).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      const named = operations.filter((o) => !body.operationName || o.name?.value === body.operationName);
      if (named.length !== 1) throw new Error('Expected one operation (or operationName).');
      operation = named[0];
    } catch (err) {
      throw queryError((err as Error).message);
    }
    const [root, ...others] = fieldsOf(operation.selectionSet);
    if (!root || others.length > 0) throw queryError('The fake answers one root field per operation.');
    const args = argumentsOf(root, variables);
    const key = root.alias?.value ?? root.name.value;
    note.method = root.name.value;

    if (operation.operation === 'query') {
      if (root.name.value !== 'inventoryItem') {
        throw queryError(`Field '${root.name.value}' doesn't exist on type 'QueryRoot'`);
      }
      const id = args.id;
      if (typeof id !== 'string') throw queryError('inventoryItem needs an id.');
      note.skus = [id];
      const data = { [key]: resolveItem(ctx.ledger, id, root.selectionSet, variables) };
      charge(11);
      return json({ data, extensions: cost(11, 11) });
    }

    if (operation.operation !== 'mutation' || root.name.value !== 'inventorySetQuantities') {
      throw queryError(`Field '${root.name.value}' doesn't exist on type '${operation.operation}'`);
    }
    note.write = true;
    const idempotencyKey = idempotentKey(root.directives ?? [], variables);
    if (idempotencyKey === undefined) {
      throw queryError(
        'The @idempotent(key:) directive is required for inventorySetQuantities.',
        'BAD_REQUEST',
      );
    }
    const input = checkInput(args.input, queryError);
    const selection = userErrorsSelection(root.selectionSet, queryError);
    note.skus = input.quantities.map((q) => q.inventoryItemId);
    const requested = 10 + input.quantities.length;
    charge(requested);
    const fingerprint = JSON.stringify(args.input);
    const first = idempotent.get(idempotencyKey);
    if (first && first.input !== fingerprint) {
      throw queryError(
        'The idempotency key was used with other parameters.',
        'IDEMPOTENCY_KEY_PARAMETER_MISMATCH',
      );
    }

    return {
      throttled: () => {
        // Other apps' calls drained the budget: the wait the reply announces is real.
        budget.available = 0;
        return throttled(requested);
      },
      run: (refuseAll) => {
        const replyOf = (data: unknown) =>
          json({ data: { [key]: data }, extensions: cost(requested, requested) });
        // The same key again: the first result, applied once.
        if (first) {
          return first.refused
            ? new Refused(replyOf(first.data), first.refused)
            : { changes: [], reply: replyOf(first.data) };
        }
        const { changes, userErrors } = planShopify(ctx.ledger, input, refuseAll);
        const data = { [selection.key]: userErrors.map((e) => pick(e, selection.subfields)) };
        const refused = userErrors.length > 0 ? userErrors.map((e) => e.code).join(',') : null;
        idempotent.set(idempotencyKey, { input: fingerprint, data, refused });
        if (refused) return new Refused(replyOf(data), refused);
        return { changes, reply: replyOf(data) };
      },
    };
  };
}

interface ShopifyQuantity {
  inventoryItemId: string;
  locationId: string;
  quantity: number;
  changeFromQuantity: number | null;
}

interface ShopifyInput {
  name: string;
  reason: string;
  referenceDocumentUri: string;
  quantities: ShopifyQuantity[];
}

interface UserError {
  code: string;
  field: string[];
  message: string;
}

/** The input as InventorySetQuantitiesInput (2026-04) allows it; a top-level error otherwise. */
function checkInput(value: unknown, queryError: (message: string) => Refused): ShopifyInput {
  const bad = (what: string) =>
    queryError(`Variable $input of type InventorySetQuantitiesInput! was provided invalid value for ${what}`);
  if (!isRecord(value)) throw bad('input');
  for (const name of Object.keys(value)) {
    if (!['name', 'reason', 'referenceDocumentUri', 'quantities'].includes(name)) {
      throw bad(`${name} (Field is not defined on InventorySetQuantitiesInput)`);
    }
  }
  if (typeof value.name !== 'string') throw bad('name');
  if (typeof value.reason !== 'string') throw bad('reason');
  if (typeof value.referenceDocumentUri !== 'string') throw bad('referenceDocumentUri');
  if (!Array.isArray(value.quantities) || value.quantities.length === 0 || value.quantities.length > 250) {
    throw bad('quantities');
  }
  const quantities = value.quantities.map((q: unknown, i): ShopifyQuantity => {
    const at = `quantities.${i}`;
    if (!isRecord(q)) throw bad(at);
    for (const name of Object.keys(q)) {
      if (!['inventoryItemId', 'locationId', 'quantity', 'changeFromQuantity'].includes(name)) {
        throw bad(`${at}.${name} (Field is not defined on InventoryQuantityInput)`);
      }
    }
    if (typeof q.inventoryItemId !== 'string') throw bad(`${at}.inventoryItemId`);
    if (typeof q.locationId !== 'string') throw bad(`${at}.locationId`);
    if (!Number.isSafeInteger(q.quantity)) throw bad(`${at}.quantity`);
    // From 2026-04 the field is required; null skips the comparison.
    if (
      !('changeFromQuantity' in q) ||
      (q.changeFromQuantity !== null && !Number.isSafeInteger(q.changeFromQuantity))
    ) {
      throw bad(`${at}.changeFromQuantity (Expected value to not be missing)`);
    }
    return {
      inventoryItemId: q.inventoryItemId,
      locationId: q.locationId,
      quantity: q.quantity as number,
      changeFromQuantity: q.changeFromQuantity as number | null,
    };
  });
  return {
    name: value.name,
    reason: value.reason,
    referenceDocumentUri: value.referenceDocumentUri,
    quantities,
  };
}

/** inventorySetQuantities against the levels: every user error, and the changes when there is none. */
function planShopify(ledger: Ledger, input: ShopifyInput, refuseAll: boolean) {
  const userErrors: UserError[] = [];
  const changes: Change[] = [];
  if (input.name !== 'available') {
    userErrors.push({
      code: 'INVALID_NAME',
      field: ['input', 'name'],
      message: 'The quantity name must be available.',
    });
  }
  if (input.reason !== 'correction') {
    userErrors.push({
      code: 'INVALID_REASON',
      field: ['input', 'reason'],
      message: 'The fake expects reason correction.',
    });
  }
  if (!/^gid:\/\/.+/.test(input.referenceDocumentUri)) {
    userErrors.push({
      code: 'INVALID_REFERENCE_DOCUMENT',
      field: ['input', 'referenceDocumentUri'],
      message: 'The reference document URI must be a gid.',
    });
  }
  const seen = new Set<string>();
  input.quantities.forEach((q, i) => {
    const field = (name: string) => ['input', 'quantities', String(i), name];
    const stock = ledger.find(q.inventoryItemId, q.locationId);
    const pairKey = `${q.inventoryItemId}\u0000${q.locationId}`;
    if (!stock) {
      const all = ledger.all();
      const [code, message] = !all.some((s) => s.sku.skuId === q.inventoryItemId)
        ? ['INVALID_INVENTORY_ITEM', 'The specified inventory item could not be found.']
        : !all.some((s) => s.sku.locationId === q.locationId)
          ? ['INVALID_LOCATION', 'The specified location could not be found.']
          : ['ITEM_NOT_STOCKED_AT_LOCATION', 'The inventory item is not stocked at the location.'];
      userErrors.push({
        code,
        field: field(code === 'INVALID_LOCATION' ? 'locationId' : 'inventoryItemId'),
        message,
      });
    } else if (seen.has(pairKey)) {
      userErrors.push({
        code: 'NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR',
        field: field('inventoryItemId'),
        message: 'The item and location appear twice.',
      });
    } else if (q.quantity < 0) {
      userErrors.push({
        code: 'INVALID_QUANTITY_NEGATIVE',
        field: field('quantity'),
        message: 'The quantity cannot be negative.',
      });
    } else if (q.changeFromQuantity !== null && q.changeFromQuantity !== quantityOf(stock)) {
      userErrors.push({
        code: 'CHANGE_FROM_QUANTITY_STALE',
        field: field('changeFromQuantity'),
        message: 'The specified compare quantity does not match the current quantity.',
      });
    } else if (q.quantity < quantityOf(stock) && (refuseAll || stock.refuseReductions)) {
      userErrors.push({
        code: 'NON_MUTABLE_INVENTORY_ITEM',
        field: field('quantity'),
        message: 'The quantity of this inventory item cannot be reduced now.',
      });
    } else {
      changes.push({ stock, to: q.quantity });
    }
    seen.add(pairKey);
  });
  return { changes: userErrors.length > 0 ? [] : changes, userErrors };
}

function fieldsOf(selectionSet: SelectionSetNode | undefined): FieldNode[] {
  return (selectionSet?.selections ?? []).map((selection) => {
    if (selection.kind !== Kind.FIELD) {
      throw new Refused(json({ errors: [{ message: 'The fake resolves no fragments.' }] }), 'fragments');
    }
    return selection;
  });
}

function argumentsOf(field: FieldNode, variables: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    (field.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value, variables)]),
  );
}

function idempotentKey(
  directives: readonly DirectiveNode[],
  variables: Record<string, unknown>,
): string | undefined {
  const directive = directives.find((d) => d.name.value === 'idempotent');
  const arg = directive?.arguments?.find((a) => a.name.value === 'key');
  const key: unknown = arg && valueFromASTUntyped(arg.value, variables);
  return typeof key === 'string' && key !== '' ? key : undefined;
}

/** The userErrors selection of the payload (its response key and subfields); the fake answers nothing else. */
function userErrorsSelection(
  selectionSet: SelectionSetNode | undefined,
  queryError: (message: string) => Refused,
) {
  const fields = fieldsOf(selectionSet);
  const [userErrors] = fields;
  if (fields.length !== 1 || userErrors.name.value !== 'userErrors') {
    throw queryError('The fake answers inventorySetQuantities { userErrors { code field message } } only.');
  }
  const subfields = fieldsOf(userErrors.selectionSet);
  const unknown = subfields.find((f) => !['code', 'field', 'message'].includes(f.name.value));
  if (unknown) {
    throw queryError(`Field '${unknown.name.value}' doesn't exist on type 'InventorySetQuantitiesUserError'`);
  }
  return { key: userErrors.alias?.value ?? 'userErrors', subfields };
}

/** A user error as the selection asks for it (aliases honoured). */
const pick = (error: UserError, subfields: FieldNode[]) =>
  Object.fromEntries(
    subfields.map((f) => [f.alias?.value ?? f.name.value, error[f.name.value as keyof UserError]]),
  );

/** `inventoryItem { inventoryLevel(locationId) { quantities(names: ["available"]) { name quantity } } }`. */
function resolveItem(
  ledger: Ledger,
  id: string,
  selectionSet: SelectionSetNode | undefined,
  variables: Record<string, unknown>,
): unknown {
  const levels = ledger.all().filter((s) => s.sku.skuId === id);
  if (levels.length === 0) return null;
  const resolve = (set: SelectionSetNode | undefined, fields: Record<string, (f: FieldNode) => unknown>) =>
    Object.fromEntries(
      fieldsOf(set).map((f) => {
        const resolver = fields[f.name.value];
        if (!Object.hasOwn(fields, f.name.value)) {
          throw new Refused(
            json({ errors: [{ message: `Field '${f.name.value}' is not answered by the fake` }] }),
            'field',
          );
        }
        return [f.alias?.value ?? f.name.value, resolver(f)];
      }),
    );
  return resolve(selectionSet, {
    id: () => id,
    inventoryLevel: (f) => {
      const locationId = argumentsOf(f, variables).locationId ?? undefined;
      const level = levels.find((s) => s.sku.locationId === locationId);
      if (!level) return null;
      return resolve(f.selectionSet, {
        id: () => `${id}?location=${level.sku.locationId}`,
        quantities: (q) => {
          const names = argumentsOf(q, variables).names;
          if (!Array.isArray(names) || names.some((n) => n !== 'available')) {
            throw new Refused(
              json({ errors: [{ message: 'The fake knows only the available quantity.' }] }),
              'names',
            );
          }
          return names.map(() =>
            resolve(q.selectionSet, { name: () => 'available', quantity: () => quantityOf(level) }),
          );
        },
      });
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// The server

const DIALECTS: Record<FakePlatformName, (ctx: DialectContext) => Dialect> = {
  TAOBAO: taobao,
  JD: jd,
  PINDUODUO: pinduoduo,
  DOUYIN: douyin,
  KUAISHOU: kuaishou,
  YOUZAN: youzan,
  SHOPIFY: shopify,
};

export async function startFakePlatform(options: FakePlatformOptions): Promise<FakePlatform> {
  const ledger = new Ledger(options.platform === 'SHOPIFY');
  for (const sku of options.skus ?? []) ledger.add(sku);
  const dialect = DIALECTS[options.platform]({
    credentials: options.credentials,
    ledger,
    now: options.now ?? Date.now,
    throttleSeconds: options.throttleSeconds ?? 1,
    youzanTokenTtlMs: options.youzanTokenTtlMs ?? 2 * 3_600_000,
    shopifyBudget: options.shopifyBudget ?? { maximum: 1000, restorePerSecond: 50 },
  });
  const random = options.random ?? Math.random;
  const latencyMs = options.latencyMs ?? 0;
  const lateMs = options.lateMs ?? 1500;
  let faults = options.faults ?? null;
  const queued: FakeFault[] = [];
  let pendingLate = 0;
  const calls: FakeCall[] = [];
  const closing = new AbortController();

  const nextFault = (): FakeFault | undefined => {
    if (queued.length > 0) return queued.shift();
    if (!faults || faults.kinds.length === 0 || random() >= faults.rate) return undefined;
    return faults.kinds[Math.min(faults.kinds.length - 1, Math.floor(random() * faults.kinds.length))];
  };

  /** Waits `ms`; close() cuts the wait short (the answer says whether the fake is still open). */
  const wait = async (ms: number) => {
    if (ms > 0) await delay(ms, undefined, { signal: closing.signal }).catch(() => undefined);
    return !closing.signal.aborted;
  };

  const send = (res: ServerResponse, reply: Reply) => {
    if (res.destroyed) return;
    res.writeHead(reply.status, { 'content-type': reply.type }).end(reply.body);
  };

  /** Applies a write's changes now, and notes when and what on its call. */
  const apply = (call: FakeCall, changes: Change[]) => {
    call.changes = changes.map(({ stock, to }) => ({
      skuId: stock.sku.skuId,
      ...(stock.sku.locationId && { locationId: stock.sku.locationId }),
      before: quantityOf(stock),
      after: to,
    }));
    for (const change of changes) ledger.set(change.stock, change.to);
    call.accepted = true;
    call.appliedAt = Date.now();
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const arrivedAt = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const request: Request = {
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    // The platform takes the latency to process the call, and decides it at the end.
    if (!(await wait(latencyMs))) return;
    const note: Note = { method: `${request.method} ${request.path}`, write: false, skus: [] };
    const record = (call: Omit<FakeCall, 'method' | 'write' | 'skus' | 'arrivedAt'>): FakeCall => {
      const entry = { method: note.method, write: note.write, skus: note.skus, arrivedAt, ...call };
      calls.push(entry);
      return entry;
    };

    let handled: Write | Reply;
    try {
      handled = dialect(request, note);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      record({ accepted: false, error: err.code });
      return send(res, err.reply);
    }
    if (!('run' in handled)) {
      record({ accepted: true });
      return send(res, handled);
    }

    const fault = nextFault();
    const call = record({ accepted: false, ...(fault && { fault }) });
    if (fault === 'error5xx') {
      call.error = 'HTTP 503';
      return send(res, plain(503, 'Service Unavailable'));
    }
    if (fault === 'hang') {
      // No reply: the socket stays open until the client gives up or close() destroys it.
      call.error = 'no reply';
      return;
    }
    if (fault === 'applyLate') {
      // No reply either; the write is processed long after the caller gave up, against the stock as it is
      // then, and only then is the socket dropped.
      pendingLate++;
      const open = await wait(lateMs);
      pendingLate--;
      if (!open) return;
      const outcome = handled.run(false);
      if (outcome instanceof Refused) call.error = outcome.code;
      else apply(call, outcome.changes);
      res.destroy();
      return;
    }
    if (fault === 'throttle') {
      const throttled = handled.throttled();
      call.error = throttled.code;
      return send(res, throttled.reply);
    }
    const outcome = handled.run(fault === 'refuseReduction');
    if (outcome instanceof Refused) call.error = outcome.code;
    else apply(call, outcome.changes);
    if (fault === 'loseReply') {
      // Decided (and applied, unless refused), then the connection drops before any reply: the caller
      // cannot know whether it worked.
      res.destroy();
      return;
    }
    return send(res, outcome.reply);
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      // A bug in the fake: say so in the reply rather than hang the test.
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500).end(`fake platform: ${(err as Error).message}`);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    platform: options.platform,
    baseUrl: `http://127.0.0.1:${port}`,
    calls,
    quantity: (skuId, locationId) => {
      const stock = ledger.find(skuId, locationId);
      return stock && quantityOf(stock);
    },
    history: (skuId, locationId) => [...(ledger.find(skuId, locationId)?.history ?? [])],
    writes: () => calls.filter((c) => c.write && c.accepted).length,
    pendingLate: () => pendingLate,
    addSku: (sku) => ledger.add(sku),
    setQuantity: (skuId, quantity, locationId) => ledger.set(ledger.get(skuId, locationId), quantity),
    failNext: (kind, times = 1) => {
      for (let i = 0; i < times; i++) queued.push(kind);
    },
    setFaults: (next) => {
      faults = next ?? null;
    },
    refuseReductions: (skuId, refuse, locationId) => {
      ledger.get(skuId, locationId).refuseReductions = refuse;
    },
    close: () =>
      new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
