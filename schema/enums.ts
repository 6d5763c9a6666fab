import { registerEnumType } from 'type-graphql';
import {
  Platform,
  IngestionMode,
  ConnectorHealth,
  ReservationStatus,
  StockAlertKind,
  OrderStatus,
  ShipmentStatus,
  OrderSortField,
  SortDirection,
  OrderLevel,
  SalesGroupBy,
  Role,
} from '../common/enums.js';

// Registers the contract's enums (common/enums.ts) with type-graphql, before any schema type uses them.

const enums = {
  Platform,
  IngestionMode,
  ConnectorHealth,
  ReservationStatus,
  StockAlertKind,
  OrderStatus,
  ShipmentStatus,
  OrderSortField,
  SortDirection,
  SalesGroupBy,
  Role,
};
for (const [name, values] of Object.entries(enums)) registerEnumType(values, { name });
registerEnumType(OrderLevel, {
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
