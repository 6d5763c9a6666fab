import type { WebSocket, WebSocketServer } from 'ws';
import { RateLimitedError } from '../common/errors.js';
import type { Principal } from '../services/context.js';
import { effectiveLimits, type KeyLimits, type RateLimitSettings } from '../services/key-limits.js';

/** The close code of a websocket over one of its key's limits (graphql-ws's 44xx range, as HTTP's 429). */
export const TOO_MANY = 4429;

/**
 * Per-key limits on graphql-ws: websockets open at once per key, operations open at once per
 * websocket, messages per second per websocket. Counted in this process: a key may open
 * `maxWebsocketConnections` on each hub process.
 */
export class WebsocketLimits {
  private readonly openByKey = new Map<string, number>();
  /** The limits of each authenticated websocket, by its key. */
  private readonly limitsOf = new WeakMap<WebSocket, KeyLimits>();

  constructor(private readonly settings: RateLimitSettings) {}

  /**
   * Counts what each websocket sends; over its key's rate it is closed with 4429. Before
   * connection_init is accepted graphql-ws itself takes no more than that one message (and pings).
   */
  watch(wss: WebSocketServer): void {
    const windowMs = this.settings.windowSeconds * 1000;
    wss.on('connection', (socket) => {
      let windowStart = Date.now();
      let count = 0;
      socket.on('message', () => {
        const perSecond = this.limitsOf.get(socket)?.websocketMessagesPerSecond ?? null;
        if (perSecond === null) return;
        const now = Date.now();
        if (now - windowStart >= windowMs) {
          windowStart = now;
          count = 0;
        }
        if (++count > perSecond * this.settings.windowSeconds) {
          socket.close(TOO_MANY, 'Too many messages for this API key');
        }
      });
    });
  }

  /** On an authenticated connection_init: false, with the socket closed with 4429, when its key has all it may open. */
  admit(socket: WebSocket, principal: Principal): boolean {
    const limits = effectiveLimits(this.settings.byRole[principal.role], principal.limits);
    const key = principal.keyId;
    const open = this.openByKey.get(key) ?? 0;
    if (limits.maxWebsocketConnections !== null && open >= limits.maxWebsocketConnections) {
      socket.close(TOO_MANY, 'Too many connections for this API key');
      return false;
    }
    this.openByKey.set(key, open + 1);
    this.limitsOf.set(socket, limits);
    socket.once('close', () => {
      const left = this.openByKey.get(key)! - 1;
      if (left === 0) this.openByKey.delete(key);
      else this.openByKey.set(key, left);
    });
    return true;
  }

  /** On a subscribe: a RATE_LIMITED error for it when `open` (this one included) is over the websocket's limit. */
  checkSubscribe(socket: WebSocket, open: number): RateLimitedError[] | undefined {
    const max = this.limitsOf.get(socket)?.maxSubscriptionsPerConnection ?? null;
    if (max === null || open <= max) return undefined;
    return [
      new RateLimitedError(
        `This connection has ${max} operations open, the most its API key may; complete one first.`,
        1,
      ),
    ];
  }
}
