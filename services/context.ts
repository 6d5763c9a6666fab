import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Role } from '../schema/enums.js';
import { createLoaders, type Loaders } from './loaders.js';

/** Who is calling: the API key behind the request. */
export interface Principal {
  keyId: string;
  role: Role;
  /** STOREFRONT and CONNECTOR keys act for this channel only. */
  channelCode: string | null;
  label: string;
}

/**
 * Everything a service method needs about the request it serves: passed first to
 * every service method, whatever the transport (HTTP, websocket, webhook, CLI).
 */
export class RequestContext {
  readonly loaders: Loaders;

  constructor(
    readonly em: EntityManager,
    readonly principal: Principal | null,
    readonly requestId: string,
    readonly logger: Logger,
    /** Why a key that was sent was refused (unknown or revoked), to say so rather than "no key". */
    readonly authFailure: string | null = null,
  ) {
    this.loaders = createLoaders(em);
  }

  /** A context for work the hub does by itself (sweepers, CLI, start-up). */
  static system(em: EntityManager, logger: Logger, requestId = 'system'): RequestContext {
    return new RequestContext(em, null, requestId, logger);
  }
}
