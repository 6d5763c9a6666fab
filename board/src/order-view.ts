import { byId, fill, h } from './dom.js';
import { formatCount, formatMoney, formatTime } from './format.js';

/** The order panel: one order with its lines, sub-orders, shipments, notices and timeline. */

interface Money {
  amount: string;
  currencyCode: string;
}

export interface OrderView {
  id: string;
  externalId: string;
  status: string;
  statusSince: string;
  placedAt: string;
  paidAt: string | null;
  shippedAt: string | null;
  deliveredAt: string | null;
  customerName: string;
  channel: { code: string; name: string };
  total: Money;
  parent: { id: string; externalId: string } | null;
  lines: { productCode: string; quantity: number; unitPrice: Money; lineTotal: Money }[];
  children: { id: string; externalId: string; status: string }[];
  shipments: {
    trackingNumber: string;
    carrier: string;
    status: string;
    events: { status: string; description: string | null; occurredAt: string }[];
  }[];
  notices: {
    step: string;
    status: string;
    provider: string | null;
    sentAt: string | null;
    error: string | null;
  }[];
  timeline: {
    seq: string;
    at: string;
    type: string;
    fromStatus: string | null;
    toStatus: string | null;
    source: string;
  }[];
}

export function showOrderMessage(text: string): void {
  fill(byId('order-view'), [h('p', { class: 'muted' }, text)]);
}

export function renderOrder(o: OrderView): void {
  const money = (m: Money) => formatMoney(m.amount, m.currencyCode);
  fill(byId('order-view'), [
    h(
      'dl',
      { class: 'facts', 'data-order-id': o.id },
      h('dt', {}, 'Order'),
      h('dd', {}, `${o.channel.code} · ${o.externalId}`),
      h('dt', {}, 'Global id'),
      h('dd', { class: 'mono' }, o.id),
      h('dt', {}, 'Status'),
      h('dd', { id: 'order-status' }, `${o.status} since ${formatTime(o.statusSince)}`),
      h('dt', {}, 'Placed'),
      h('dd', {}, formatTime(o.placedAt)),
      h('dt', {}, 'Total'),
      h('dd', {}, money(o.total)),
      o.parent && h('dt', {}, 'Part of'),
      o.parent && h('dd', {}, o.parent.externalId),
    ),
    h('h3', {}, 'Lines'),
    h(
      'table',
      { class: 'compact' },
      h(
        'tbody',
        {},
        ...o.lines.map((l) =>
          h(
            'tr',
            {},
            h('td', {}, l.productCode),
            h('td', { class: 'num' }, `× ${formatCount(l.quantity)}`),
            h('td', { class: 'num' }, money(l.lineTotal)),
          ),
        ),
      ),
    ),
    o.children.length > 0 && h('h3', {}, 'Sub-orders'),
    o.children.length > 0 &&
      h(
        'ul',
        {},
        ...o.children.map((c) => h('li', {}, h('span', { class: 'mono' }, c.externalId), ` ${c.status}`)),
      ),
    h('h3', {}, 'Shipments'),
    o.shipments.length === 0
      ? h('p', { class: 'muted' }, 'None yet.')
      : h(
          'ul',
          { id: 'order-shipments' },
          ...o.shipments.map((s) =>
            h(
              'li',
              { 'data-tracking': s.trackingNumber },
              h('strong', {}, `${s.carrier} ${s.trackingNumber}`),
              ` ${s.status}`,
              h(
                'ol',
                { class: 'tracking' },
                ...s.events.map((e) =>
                  h(
                    'li',
                    { 'data-status': e.status },
                    `${formatTime(e.occurredAt)} ${e.status}${e.description ? ` — ${e.description}` : ''}`,
                  ),
                ),
              ),
            ),
          ),
        ),
    o.notices.length > 0 && h('h3', {}, 'Notices'),
    o.notices.length > 0 &&
      h(
        'ul',
        {},
        ...o.notices.map((n) =>
          h(
            'li',
            {},
            `${n.step} ${n.status}${n.provider ? ` (${n.provider})` : ''}${n.error ? ` — ${n.error}` : ''}`,
          ),
        ),
      ),
    h('h3', {}, 'Timeline'),
    h(
      'ol',
      { id: 'order-timeline', class: 'timeline' },
      ...o.timeline.map((t) =>
        h(
          'li',
          { 'data-type': t.type },
          h('time', { datetime: t.at, class: 'muted' }, formatTime(t.at)),
          ` ${t.type}${t.toStatus ? ` → ${t.toStatus}` : ''} `,
          h('span', { class: 'muted' }, t.source),
        ),
      ),
    ),
  ]);
}
