import type { EntityManager } from '@mikro-orm/postgresql';
import { Channel } from '../entities/index.js';

/**
 * Channels by code for the webhook door, re-read after a few seconds: every delivery
 * needs its channel's platform and secret, and they change rarely. A changed secret
 * takes effect within `ttlMs`.
 */
export class ChannelCache {
  private readonly entries = new Map<string, { channel: Channel | null; at: number }>();

  constructor(
    private readonly em: EntityManager,
    private readonly ttlMs = 5000,
  ) {}

  async get(code: string): Promise<Channel | null> {
    const hit = this.entries.get(code);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.channel;
    const channel = await this.em.fork().findOne(Channel, { code }, { disableIdentityMap: true });
    // Unknown codes are not remembered: a channel made a moment ago must be found.
    if (channel) this.entries.set(code, { channel, at: Date.now() });
    else this.entries.delete(code);
    return channel;
  }
}
