import { randomUUID } from 'node:crypto';
import { Platform } from '../../../common/enums.js';
import {
  PlatformRejectedError,
  PlatformThrottledError,
  type ChannelApi,
  type Listing,
  type ListingResult,
  type StockClient,
  type StockClientOptions,
  type StockSet,
} from '../platform-api.js';
import {
  breakerKey,
  defaultThrottleWaitMs,
  isRecord,
  jsonAttempt,
  jsonRequest,
  platformText,
  rejectedIfRefused,
  requireCredentials,
  setTo,
  unexpectedReply,
  urlOf,
} from './common.js';

/**
 * Shopify (Admin GraphQL 2026-04): `inventorySetQuantities` sets up to 250 levels of one store in one call,
 * compare-and-set: each quantity names the value the hub believes is there (`changeFromQuantity`), and a
 * level that moved behind the hub's back is refused as stale, the whole mutation unapplied. The hub then reads
 * the level and tries again; a level already at its target (the reply of an applied call was lost) is done.
 */

const LABEL = 'Shopify';
const API_VERSION = '2026-04';
/** Mutations answered stale before the hub gives up on a level that keeps moving. */
const MAX_STALE_ROUNDS = 3;
const STALE = 'CHANGE_FROM_QUANTITY_STALE';

const SET_MUTATION = `mutation SetStock($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    userErrors { code field message }
  }
}`;

const LEVEL_QUERY = `query Level($id: ID!, $loc: ID!) {
  inventoryItem(id: $id) {
    inventoryLevel(locationId: $loc) { quantities(names: ["available"]) { name quantity } }
  }
}`;

/** The cost budget as the last reply left it. */
interface Budget {
  /** What the call just made asked for: the estimate of the next one's cost. */
  cost: number;
  available: number;
  restoreRate: number;
}

interface UserError {
  code: string;
  field: string[] | null;
  message: string;
}

function budgetOf(body: Record<string, unknown>): Budget | null {
  const cost = isRecord(body.extensions) ? body.extensions.cost : undefined;
  const status = isRecord(cost) ? cost.throttleStatus : undefined;
  if (!isRecord(cost) || !isRecord(status)) return null;
  const budget = {
    cost: Number(cost.requestedQueryCost),
    available: Number(status.currentlyAvailable),
    restoreRate: Number(status.restoreRate),
  };
  return Object.values(budget).every(Number.isFinite) && budget.restoreRate > 0 ? budget : null;
}

/** How long until the budget covers a call like the last one; 0 when it does now. */
function waitForBudgetMs(budget: Budget): number {
  return Math.max(0, Math.ceil(((budget.cost - budget.available) / budget.restoreRate) * 1_000));
}

export function shopifyClient(options: StockClientOptions): StockClient {
  /** Per channel, the cost of the largest call seen: what the next call may need of the budget. */
  const largestCost = new Map<string, number>();
  /** One call's GraphQL requests; `budget` follows the last reply. */
  class Call {
    budget: Budget | null = null;
    /** What this call's requests have asked of the budget so far: a throttled attempt makes them all again. */
    private spent = 0;

    constructor(
      private readonly api: ChannelApi,
      private readonly token: string,
      private readonly signal: AbortSignal,
    ) {}

    /** The reply's `data`; `variables` is built again for every attempt (a new idempotency key each). */
    async graphql(query: string, variables: () => Record<string, unknown>): Promise<Record<string, unknown>> {
      const url = urlOf(this.api, `/admin/api/${API_VERSION}/graphql.json`);
      let body: unknown;
      try {
        const attempt = (signal: AbortSignal) =>
          jsonAttempt(
            jsonRequest(url, JSON.stringify({ query, variables: variables() }), {
              'X-Shopify-Access-Token': this.token,
            }),
          )(signal);
        body = (await options.http.call(breakerKey(this.api), attempt, this.signal)).value;
      } catch (err) {
        throw rejectedIfRefused(err, LABEL);
      }
      if (!isRecord(body)) throw unexpectedReply(LABEL);
      const budget = budgetOf(body);
      if (budget) this.spent += budget.cost;
      this.budget = budget ?? this.budget;
      if (Array.isArray(body.errors) && body.errors.length > 0) {
        const [first] = body.errors as unknown[];
        const code =
          isRecord(first) && isRecord(first.extensions) ? String(first.extensions.code) : 'GRAPHQL_ERROR';
        const message = `${LABEL} answered ${code}: ${platformText(isRecord(first) ? first.message : first, this.api)}`;
        if (code === 'THROTTLED') {
          // Wait until the budget covers the reads before the write too: enough for the write alone was spent
          // on the read of the next attempt, throttled again, for ever.
          throw new PlatformThrottledError(
            this.budget
              ? waitForBudgetMs({ ...this.budget, cost: this.spent })
              : defaultThrottleWaitMs(options),
            message,
          );
        }
        throw new PlatformRejectedError(code, message);
      }
      if (!isRecord(body.data)) throw unexpectedReply(LABEL);
      return body.data;
    }

    /** The level's available quantity, or why there is none. */
    async level(listing: Listing): Promise<number | ListingResult> {
      const data = await this.graphql(LEVEL_QUERY, () => ({
        id: listing.platformItemId,
        loc: listing.locationId,
      }));
      const item = data.inventoryItem;
      if (!isRecord(item)) {
        return {
          kind: 'failed',
          code: 'INVALID_INVENTORY_ITEM',
          message: `${LABEL} has no inventory item ${listing.platformItemId}.`,
        };
      }
      const level = item.inventoryLevel;
      if (!isRecord(level)) {
        return {
          kind: 'failed',
          code: 'ITEM_NOT_STOCKED_AT_LOCATION',
          message: `${LABEL} does not stock inventory item ${listing.platformItemId} at ${listing.locationId}.`,
        };
      }
      const available = Array.isArray(level.quantities)
        ? level.quantities.find((q: unknown) => isRecord(q) && q.name === 'available')
        : undefined;
      const quantity = isRecord(available) ? Number(available.quantity) : NaN;
      if (!Number.isInteger(quantity)) throw unexpectedReply(LABEL);
      return quantity;
    }

    /** One compare-and-set of these levels: the user errors (none: all applied; any: none applied). */
    async setLevels(sets: StockSet[], believed: Map<string, number>): Promise<UserError[]> {
      const input = {
        name: 'available',
        reason: 'correction',
        referenceDocumentUri: `gid://order-hub/StockSync/${sets[0].listingId}`,
        quantities: sets.map((s) => ({
          inventoryItemId: s.platformItemId,
          locationId: s.locationId,
          quantity: s.target,
          changeFromQuantity: believed.get(s.listingId),
        })),
      };
      // One key for this compare-and-set and every retry of it: a retry after a lost reply, or the first
      // request landing late, is dropped by Shopify instead of applied again.
      const key = randomUUID();
      const data = await this.graphql(SET_MUTATION, () => ({ input, key }));
      const payload = data.inventorySetQuantities;
      if (!isRecord(payload) || !Array.isArray(payload.userErrors)) throw unexpectedReply(LABEL);
      return payload.userErrors.map((e: unknown) => ({
        code: isRecord(e) ? String(e.code) : 'UNKNOWN',
        field: isRecord(e) && Array.isArray(e.field) ? e.field.map(String) : null,
        message: platformText(isRecord(e) ? e.message : e, this.api),
      }));
    }
  }

  return {
    platform: Platform.SHOPIFY,
    batchKey: () => 'store',
    maxBatch: 250,
    maxParallelCalls: 1,
    // 100 points/s on a Standard store, about 10 a call (guess); the replies' budget paces the rest.
    defaultRequestsPerSecond: 5,
    listingProblem: (listing) =>
      listing.platformItemId && listing.locationId
        ? null
        : "The listing needs Shopify's inventory item id (platformItemId) and its location (locationId).",
    async set(api, sets, signal) {
      const { accessToken } = requireCredentials(api, LABEL, ['accessToken']);
      const call = new Call(api, accessToken, signal);
      const results = new Map<string, ListingResult>();
      const believed = new Map<string, number>();

      /** Reads the level: a result when it is at the target or cannot be set, else `believed` holds it. */
      const readBack = async (set: StockSet, giveUp = false): Promise<void> => {
        const level = await call.level(set);
        if (typeof level !== 'number') results.set(set.listingId, level);
        else if (level === set.target) results.set(set.listingId, setTo(set));
        // A level that keeps moving (sales on Shopify meanwhile) is no refusal: left without a result, the
        // listing is tried again later, with no alert.
        else if (giveUp) believed.delete(set.listingId);
        else believed.set(set.listingId, level);
      };

      for (const set of sets) {
        if (set.confirmed !== null && !set.uncertain) believed.set(set.listingId, set.confirmed);
        else await readBack(set);
      }
      let pending = sets.filter((s) => !results.has(s.listingId));
      let staleRounds = 0;
      while (pending.length > 0) {
        const userErrors = await call.setLevels(pending, believed);
        if (userErrors.length === 0) {
          for (const set of pending) results.set(set.listingId, setTo(set));
          break;
        }
        const stale: StockSet[] = [];
        for (const error of userErrors) {
          // field: ["input", "quantities", "<index>", …]
          const set = error.field?.[1] === 'quantities' ? pending[Number(error.field[2])] : undefined;
          if (!set)
            throw new PlatformRejectedError(error.code, `${LABEL} answered ${error.code}: ${error.message}`);
          if (error.code === STALE) stale.push(set);
          else results.set(set.listingId, { kind: 'failed', code: error.code, message: error.message });
        }
        if (stale.length > 0) staleRounds++;
        for (const set of stale) await readBack(set, staleRounds >= MAX_STALE_ROUNDS);
        pending = pending.filter((s) => !results.has(s.listingId) && believed.has(s.listingId));
      }
      // The next call may carry more listings than this one: it waits until the budget covers the largest
      // call seen on this channel, not to be throttled after a small one.
      const largest = Math.max(call.budget?.cost ?? 0, largestCost.get(api.channelId) ?? 0);
      largestCost.set(api.channelId, largest);
      const wait = call.budget ? waitForBudgetMs({ ...call.budget, cost: largest }) : 0;
      return wait > 0 ? { results, nextCallDelayMs: wait } : { results };
    },
  };
}
