import { CloseCode } from 'graphql-ws';

/** Close code for the websockets of a revoked key: graphql-ws's Forbidden, as a refused connection_init gets. */
export const KEY_REVOKED_CLOSE_CODE = CloseCode.Forbidden;
export const KEY_REVOKED_REASON = 'API key revoked';

/** How many revoked key ids are remembered, to refuse a socket that authenticated just before its key was revoked. */
const REMEMBERED = 10_000;

export interface ClosableSocket {
  close(code: number, reason: string): void;
}

/**
 * This process's open websockets by the stored API key they authenticated with, so a
 * revocation (notified by the database on commit, to every process) closes them at once.
 * HUB_ADMIN_KEY has no row and cannot be revoked: its sockets are not kept here.
 */
export class KeySockets {
  private readonly byKey = new Map<string, Set<ClosableSocket>>();
  private readonly revokedIds = new Set<string>();

  /**
   * Keeps `socket` under `keyId`; false when the key was revoked since it authenticated
   * (the notification came between the two), and the socket must be refused.
   */
  add(keyId: string, socket: ClosableSocket): boolean {
    if (this.revokedIds.has(keyId)) return false;
    let sockets = this.byKey.get(keyId);
    if (!sockets) this.byKey.set(keyId, (sockets = new Set()));
    sockets.add(socket);
    return true;
  }

  remove(keyId: string, socket: ClosableSocket): void {
    const sockets = this.byKey.get(keyId);
    if (!sockets) return;
    sockets.delete(socket);
    if (sockets.size === 0) this.byKey.delete(keyId);
  }

  /** The keys with a websocket open here: checked against the database when a notification may have been missed. */
  openKeyIds(): string[] {
    return [...this.byKey.keys()];
  }

  /** Closes every websocket of `keyId` here, and refuses any it opens from now on. */
  revoked(keyId: string): void {
    this.revokedIds.add(keyId);
    if (this.revokedIds.size > REMEMBERED) this.revokedIds.delete(this.revokedIds.values().next().value!);
    const sockets = this.byKey.get(keyId);
    this.byKey.delete(keyId);
    for (const socket of sockets ?? []) socket.close(KEY_REVOKED_CLOSE_CODE, KEY_REVOKED_REASON);
  }
}
