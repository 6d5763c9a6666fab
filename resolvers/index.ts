import { ApiKeyResolver } from './api-key.js';
import { ProductResolver } from './catalog.js';
import { ChannelResolver } from './channel.js';
import { IngestionResolver } from './ingestion.js';
import { InventoryResolver } from './inventory.js';
import { NotAvailableResolver } from './not-available.js';
import { OrderLineResolver, OrderResolver, ReservationResolver, ShipmentResolver } from './order.js';

export const resolvers = [
  ApiKeyResolver,
  ChannelResolver,
  IngestionResolver,
  InventoryResolver,
  NotAvailableResolver,
  OrderLineResolver,
  OrderResolver,
  ProductResolver,
  ReservationResolver,
  ShipmentResolver,
] as const;
