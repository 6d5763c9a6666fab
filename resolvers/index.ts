import { ApiKeyResolver } from './api-key.js';
import { ProductResolver } from './catalog.js';
import { ChannelResolver } from './channel.js';
import { CsvImportResolver } from './csv-import.js';
import { IngestionResolver } from './ingestion.js';
import { InventoryResolver } from './inventory.js';
import { NotAvailableResolver } from './not-available.js';
import { OrderLineResolver, OrderResolver, ReservationResolver, ShipmentResolver } from './order.js';
import { PollingResolver } from './polling.js';

export const resolvers = [
  ApiKeyResolver,
  ChannelResolver,
  CsvImportResolver,
  IngestionResolver,
  InventoryResolver,
  NotAvailableResolver,
  OrderLineResolver,
  OrderResolver,
  PollingResolver,
  ProductResolver,
  ReservationResolver,
  ShipmentResolver,
] as const;
