import { createHash } from 'node:crypto';
import { ShipmentStatus } from '../common/enums.js';
import { Field } from './payload.js';

/**
 * Kuaidi100's real-time tracking query (实时快递查询, `POST https://poll.kuaidi100.com/poll/query.do`), the
 * aggregator Shipment.liveTracking asks (docs/live-tracking.md). One parcel per request: a form of `customer`,
 * `param` (JSON: `com`, `num`, `phone`, `resultv2`) and `sign`, the upper-case hex MD5 of param + key +
 * customer. Pure: it builds the request and maps the reply; services/live-tracking.ts sends it.
 */

export interface TrackingApi {
  /** The query URL (CARRIER_TRACKING_URL). */
  url: string;
  /** The company number Kuaidi100 gives the merchant (CARRIER_TRACKING_CUSTOMER). */
  customer: string;
  /** The authorisation key that signs (CARRIER_TRACKING_KEY). */
  key: string;
}

export interface CarrierEvent {
  status: ShipmentStatus;
  description: string | null;
  occurredAt: Date;
}

/** What a reply says: the parcel's events, or why there are none. */
export type TrackingReply =
  | { kind: 'events'; events: CarrierEvent[]; unmapped: string[] }
  /** The carrier's side failed (Kuaidi100 501, 502): worth asking again later. */
  | { kind: 'unavailable'; message: string }
  /** Our request was refused (bad signature, no balance, phone required…): asking again will not help. */
  | { kind: 'refused'; message: string };

/**
 * The hub's carrier names (lower case) that are not Kuaidi100's company codes; any other carrier is sent
 * lower-cased as it is, so a shipment may name Kuaidi100's code itself (`youzhengguonei`).
 */
const COMPANY_CODES: Readonly<Record<string, string>> = {
  sf: 'shunfeng',
  yto: 'yuantong',
  zto: 'zhongtong',
  sto: 'shentong',
  jt: 'jtexpress',
  deppon: 'debangkuaidi',
  best: 'huitongkuaidi',
};

/** The state of each event (`resultv2=1` adds it); an event with one not listed is left out and logged. */
const STATUSES: Readonly<Record<string, ShipmentStatus>> = {
  揽收: ShipmentStatus.PICKED_UP,
  在途: ShipmentStatus.IN_TRANSIT,
  转投: ShipmentStatus.IN_TRANSIT,
  待清关: ShipmentStatus.IN_TRANSIT,
  清关中: ShipmentStatus.IN_TRANSIT,
  已清关: ShipmentStatus.IN_TRANSIT,
  清关: ShipmentStatus.IN_TRANSIT,
  派件: ShipmentStatus.OUT_FOR_DELIVERY,
  签收: ShipmentStatus.DELIVERED,
  疑难: ShipmentStatus.EXCEPTION,
  退签: ShipmentStatus.EXCEPTION,
  退回: ShipmentStatus.EXCEPTION,
  拒签: ShipmentStatus.EXCEPTION,
  清关异常: ShipmentStatus.EXCEPTION,
};

/** Kuaidi100's returnCode for "nothing found yet" (a label the carrier has not scanned): no events, no failure. */
const NO_RESULT = '500';
const CARRIER_SIDE = new Set(['501', '502']);

export function companyCode(carrier: string): string {
  const name = carrier.trim().toLowerCase();
  return COMPANY_CODES[name] ?? name;
}

/** Upper-case hex MD5 of param + key + customer, as Kuaidi100 signs. */
export function kuaidi100Sign(param: string, key: string, customer: string): string {
  return createHash('md5')
    .update(param + key + customer, 'utf8')
    .digest('hex')
    .toUpperCase();
}

/** The query for one parcel; `phone` is the recipient's (SF Express answers only with it). */
export function trackingQuery(
  api: TrackingApi,
  carrier: string,
  trackingNumber: string,
  phone: string | null,
): { url: string; init: { method: 'POST'; headers: Record<string, string>; body: string } } {
  const param = JSON.stringify({
    com: companyCode(carrier),
    num: trackingNumber,
    ...(phone ? { phone } : {}),
    resultv2: '1',
    order: 'asc',
  });
  const body = new URLSearchParams({
    customer: api.customer,
    sign: kuaidi100Sign(param, api.key, api.customer),
    param,
  }).toString();
  return {
    url: api.url,
    init: { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body },
  };
}

/** The reply as JSON; a reply that is not what the API answers is a PayloadMappingError naming the field. */
export function trackingReply(json: unknown): TrackingReply {
  const root = Field.root(json);
  if (root.get('result').value === false) {
    const code = String(root.get('returnCode').value);
    if (code === NO_RESULT) return { kind: 'events', events: [], unmapped: [] };
    const message = `Kuaidi100 answered ${code}: ${root.get('message').optionalText() ?? 'no message'}`;
    return CARRIER_SIDE.has(code) ? { kind: 'unavailable', message } : { kind: 'refused', message };
  }
  const events: CarrierEvent[] = [];
  const unmapped: string[] = [];
  for (const item of root.get('data').items()) {
    const label = item.get('status').optionalText();
    const status = label === null ? undefined : STATUSES[label];
    if (!status) {
      unmapped.push(label ?? '(none)');
      continue;
    }
    events.push({
      status,
      description: item.get('context').optionalText(),
      occurredAt: item.get('time').shanghaiTime(),
    });
  }
  return { kind: 'events', events, unmapped };
}
