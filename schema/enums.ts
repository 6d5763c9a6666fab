import { registerEnumType } from 'type-graphql';
import * as common from '../common/enums.js';

// Registers the contract's enums (common/enums.ts) with type-graphql, before any schema type uses them.

const plain = [
  'Platform',
  'IngestionMode',
  'ConnectorHealth',
  'ReservationStatus',
  'StockAlertKind',
  'ChannelStockState',
  'OrderStatus',
  'ShipmentStatus',
  'OrderSortField',
  'SortDirection',
  'SalesGroupBy',
  'ReturnsGroupBy',
  'Role',
  'OutboundEventType',
  'WebhookDeliveryStatus',
  'NoticeStep',
  'NoticeProvider',
  'NoticeStatus',
  'RefundKind',
  'RefundStatus',
  'RefundReasonClass',
  'RefundResponsible',
  'RiskKind',
] as const;
for (const name of plain) registerEnumType(common[name], { name });
registerEnumType(common.OrderLevel, {
  name: 'OrderLevel',
  description: 'Which orders a list holds when some sales are split into sub-orders.',
  valuesConfig: {
    SALES: {
      description: 'One order per sale: orders not split, and split orders (sub-orders under `children`).',
    },
    PARCELS: { description: 'What the warehouse fulfils: orders not split, and sub-orders.' },
    ALL: { description: 'Every order: split orders and their sub-orders both.' },
  },
});
