import { assertRole } from '../services/access.js';
import { findProduct, findProductById } from '../services/catalog.js';
import { findChannelById } from '../services/channels.js';
import type { RequestContext } from '../services/context.js';
import { findOrder, findShipment } from '../services/orders.js';
import { READ_CATALOG, READ_ORDERS } from './roles.js';

/**
 * The federation entities (`_entities`): each representation is looked up as the root field that reads
 * it would, with its role check (`_entities` carries no `@Authorized`) and through the request's loaders, so
 * a batch of representations costs a few statements and a key sees nothing the root field would not show it.
 */
export const referenceResolvers = {
  Order: {
    __resolveReference(reference: { id: string }, ctx: RequestContext) {
      assertRole(ctx, READ_ORDERS);
      return findOrder(ctx, reference.id);
    },
  },
  Channel: {
    __resolveReference(reference: { id: string }, ctx: RequestContext) {
      assertRole(ctx, READ_CATALOG);
      return findChannelById(ctx, reference.id);
    },
  },
  Product: {
    // Keyed by id and by productCode: the representation holds the fields of the key the router chose.
    __resolveReference(reference: { id: string } | { productCode: string }, ctx: RequestContext) {
      assertRole(ctx, READ_CATALOG);
      return 'id' in reference ? findProductById(ctx, reference.id) : findProduct(ctx, reference.productCode);
    },
  },
  Shipment: {
    __resolveReference(reference: { trackingNumber: string }, ctx: RequestContext) {
      assertRole(ctx, READ_ORDERS);
      return findShipment(ctx, reference.trackingNumber);
    },
  },
};
