import type { Platform } from '../../../common/enums.js';
import type {
  ChannelApi,
  Listing,
  ListingResult,
  SetResult,
  StockClient,
  StockSet,
} from '../platform-api.js';
import { failedBy, refusalOf, setTo, type Outcome } from './common.js';

/**
 * The shape of every platform whose write sets the number outright (Taobao, JD, Pinduoduo, Douyin, Youzan): a
 * repeated write leaves the same number, so the platform client may retry it, and a batch the platform refuses
 * without saying for which listing is sent again one listing at a time to find out.
 */
export interface AbsoluteDialect {
  platform: Platform;
  batchKey(listing: Listing): string;
  maxBatch: number;
  defaultRequestsPerSecond: number;
  listingProblem(listing: Listing): string | null;
  /** One call that sets these listings, all of one batch key, at most maxBatch of them. */
  send(api: ChannelApi, sets: StockSet[], signal: AbortSignal): Promise<Outcome>;
}

export function absoluteClient(dialect: AbsoluteDialect): StockClient {
  const { platform, maxBatch, defaultRequestsPerSecond } = dialect;

  async function setBatch(
    api: ChannelApi,
    sets: StockSet[],
    results: Map<string, ListingResult>,
    signal: AbortSignal,
  ): Promise<void> {
    const refusal = refusalOf(await dialect.send(api, sets, signal));
    if (!refusal) {
      for (const set of sets) results.set(set.listingId, setTo(set));
    } else if (sets.length === 1) {
      results.set(sets[0].listingId, failedBy(refusal));
    } else {
      for (const set of sets) await setBatch(api, [set], results, signal);
    }
  }

  return {
    platform,
    maxBatch,
    defaultRequestsPerSecond,
    batchKey: (listing) => dialect.batchKey(listing),
    listingProblem: (listing) => dialect.listingProblem(listing),
    async set(api, sets, signal): Promise<SetResult> {
      const results = new Map<string, ListingResult>();
      for (const batch of batches(sets, dialect.batchKey, maxBatch))
        await setBatch(api, batch, results, signal);
      return { results };
    },
  };
}

/** The sets grouped as the caller should have grouped them: one batch key per call, at most `max` per call. */
export function batches<T extends Listing>(
  sets: T[],
  keyOf: (listing: Listing) => string,
  max: number,
): T[][] {
  const byKey = new Map<string, T[]>();
  for (const set of sets) {
    const key = keyOf(set);
    byKey.set(key, [...(byKey.get(key) ?? []), set]);
  }
  const out: T[][] = [];
  for (const group of byKey.values()) {
    for (let i = 0; i < group.length; i += max) out.push(group.slice(i, i + max));
  }
  return out;
}

/** Listing checks: the platform's item id, which most platforms need beside the SKU's. */
export function needsItemId(what: string): (listing: Listing) => string | null {
  return (listing) =>
    listing.platformItemId ? null : `The listing needs the platform's ${what} (platformItemId).`;
}
