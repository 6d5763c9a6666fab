import { ApiKeyResolver } from './api-key.js';
import { ProductResolver } from './catalog.js';
import { ChannelResolver } from './channel.js';
import { CsvImportResolver } from './csv-import.js';
import { IngestionResolver } from './ingestion.js';
import { InventoryResolver } from './inventory.js';
import { LifecycleResolver } from './lifecycle.js';
import {
  ChannelNoticesResolver,
  NoticeProviderSettingsResolver,
  NoticeResolver,
  OrderNoticesResolver,
} from './notices.js';
import {
  OrderConnectionResolver,
  OrderLineResolver,
  OrderResolver,
  ReservationResolver,
  ShipmentResolver,
} from './order.js';
import { PollingResolver } from './polling.js';
import { SplittingResolver } from './splitting.js';
import { StockLevelResolver } from './stock.js';
import { StockSyncResolver } from './stock-sync.js';
import { StockReservationResolver } from './reservations.js';
import { SubscriptionResolver } from './subscriptions.js';
import { ReportResolver } from './reports.js';
import { ReconciliationResolver } from './reconciliation.js';
import {
  OrderReturnsResolver,
  ProductReturnsResolver,
  ReturnLineResolver,
  ReturnResolver,
} from './returns.js';
import { OrderRiskResolver, ProductRiskResolver, RiskResolver } from './risk.js';
import { WebhookDeliveryResolver, WebhookEndpointResolver } from './outbound.js';

export const resolvers = [
  ApiKeyResolver,
  ChannelNoticesResolver,
  ChannelResolver,
  CsvImportResolver,
  IngestionResolver,
  InventoryResolver,
  LifecycleResolver,
  NoticeProviderSettingsResolver,
  NoticeResolver,
  OrderConnectionResolver,
  OrderLineResolver,
  OrderNoticesResolver,
  OrderResolver,
  OrderReturnsResolver,
  PollingResolver,
  ProductResolver,
  ProductReturnsResolver,
  ReconciliationResolver,
  ReportResolver,
  ReservationResolver,
  ReturnLineResolver,
  ReturnResolver,
  OrderRiskResolver,
  PollingResolver,
  ProductResolver,
  ProductRiskResolver,
  ReconciliationResolver,
  ReportResolver,
  ReservationResolver,
  RiskResolver,
  ShipmentResolver,
  SplittingResolver,
  StockLevelResolver,
  StockReservationResolver,
  StockSyncResolver,
  SubscriptionResolver,
  WebhookDeliveryResolver,
  WebhookEndpointResolver,
] as const;
