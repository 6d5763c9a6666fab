import { ApiKey } from './api-key.js';
import { Channel } from './channel.js';
import { ChannelApi } from './channel-api.js';
import { ChannelStockCap } from './channel-stock-cap.js';
import { ChannelSku } from './channel-sku.js';
import { HubSecret } from './hub-secret.js';
import { IngestLog } from './ingest-log.js';
import { InventoryItem } from './inventory-item.js';
import { Address, Order } from './order.js';
import { Notice } from './notice.js';
import { NoticeProviderAccount } from './notice-provider.js';
import { NoticeTemplate } from './notice-template.js';
import { OrderEvent } from './order-event.js';
import { OrderLine } from './order-line.js';
import { OutboundAttempt } from './outbound-attempt.js';
import { OutboundDelivery } from './outbound-delivery.js';
import { Product } from './product.js';
import { ReconciliationLine, ReconciliationReport } from './reconciliation-report.js';
import { RefundHourly, RefundHourlyChange, RefundShare } from './refunds-hourly.js';
import { Reservation } from './reservation.js';
import { Return, ReturnEvent, ReturnLine } from './return.js';
import { ProductOrdersHourly, ProductOrdersHourRolled, RiskFlag, RiskRule, VelocitySpike } from './risk.js';
import { Shipment, ShipmentEvent } from './shipment.js';
import { SalesHourly, SalesHourlyChange } from './sales-hourly.js';
import { SplitRule } from './split-rule.js';
import { StockAlert } from './stock-alert.js';
import { StockMovement } from './stock-movement.js';
import { StockPush } from './stock-push.js';
import { WebhookDelivery } from './webhook-delivery.js';
import { WebhookEndpoint } from './webhook-endpoint.js';
import { WechatToken } from './wechat-token.js';

export {
  Address,
  ApiKey,
  Channel,
  ChannelApi,
  ChannelSku,
  ChannelStockCap,
  HubSecret,
  IngestLog,
  InventoryItem,
  Notice,
  NoticeProviderAccount,
  NoticeTemplate,
  Order,
  OrderEvent,
  OrderLine,
  OutboundAttempt,
  OutboundDelivery,
  Product,
  ProductOrdersHourly,
  ProductOrdersHourRolled,
  ReconciliationLine,
  ReconciliationReport,
  RefundHourly,
  RefundHourlyChange,
  RefundShare,
  Reservation,
  Return,
  ReturnEvent,
  ReturnLine,
  RiskFlag,
  RiskRule,
  SalesHourly,
  SalesHourlyChange,
  Shipment,
  ShipmentEvent,
  SplitRule,
  StockAlert,
  StockMovement,
  StockPush,
  VelocitySpike,
  WebhookDelivery,
  WebhookEndpoint,
  WechatToken,
};

export const entities = [
  Address,
  ApiKey,
  Channel,
  ChannelApi,
  ChannelSku,
  ChannelStockCap,
  HubSecret,
  IngestLog,
  InventoryItem,
  Notice,
  NoticeProviderAccount,
  NoticeTemplate,
  Order,
  OrderEvent,
  OrderLine,
  OutboundAttempt,
  OutboundDelivery,
  Product,
  ProductOrdersHourly,
  ProductOrdersHourRolled,
  ReconciliationLine,
  ReconciliationReport,
  RefundHourly,
  RefundHourlyChange,
  RefundShare,
  Reservation,
  Return,
  ReturnEvent,
  ReturnLine,
  RiskFlag,
  RiskRule,
  SalesHourly,
  SalesHourlyChange,
  Shipment,
  ShipmentEvent,
  SplitRule,
  StockAlert,
  StockMovement,
  StockPush,
  VelocitySpike,
  WebhookDelivery,
  WebhookEndpoint,
  WechatToken,
];
