import { randomUUID } from 'node:crypto';
import { getOperationAST, Kind, print, subscribe, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Logger } from 'pino';
import type { RequestContext } from '../services/context.js';

/** Close code for a subscriber that does not read fast enough (graphql-ws clients retry on it). */
export const SLOW_CONSUMER_CLOSE_CODE = 4029;
/**
 * Its close reason (at most 123 bytes): closing the socket ends every subscription on it, and only
 * orderStatusChanged can replay what was missed.
 */
export const SLOW_CONSUMER_REASON =
  'Slow consumer: resubscribe orderStatusChanged with after: <last seq received>; others: query the current state first';

type Results = AsyncIterableIterator<ExecutionResult, void, void>;
/** The websocket a subscription lives on and its graphql-ws id. */
export interface Connection {
  socket: {
    send(data: Buffer, options: { binary: false }, done: (err?: Error) => void): void;
    close(code: number, reason: string): void;
  };
  id: string;
}

const TEXT_FRAME = { binary: false } as const;

/**
 * Executes each subscription event once per group of identical subscriptions, not once
 * per socket: subscribers with the same document, variables and access scope (role and
 * channel) share one source stream and receive the same result object. A subscription
 * that replays (`after` set) has a stream of its own. Every subscriber reads from its
 * own bounded queue; one that falls `maxQueue` results behind is disconnected with
 * SLOW_CONSUMER_CLOSE_CODE, so it never holds the others up (not an error of the hub: nothing is logged).
 */
export class SubscriptionFanout {
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly maxQueue: number,
    private readonly logger: Logger,
  ) {}

  /** How many source streams run, and how many subscribers read from them. */
  stats(): { groups: number; subscribers: number } {
    let subscribers = 0;
    for (const group of this.groups.values()) subscribers += group.members.size;
    return { groups: this.groups.size, subscribers };
  }

  async subscribe(args: ExecutionArgs): Promise<Results | ExecutionResult> {
    const key = groupKey(args);
    let group = this.groups.get(key);
    if (!group) {
      const source = await subscribe(args);
      if (!(Symbol.asyncIterator in source)) return source;
      // Another subscriber of the same key may have made the group while this one awaited.
      group = this.groups.get(key);
      if (group) {
        await source.return?.();
      } else {
        group = new Group(source, () => this.groups.delete(key), this.logger);
        this.groups.set(key, group);
      }
    }
    // The socket the subscription's context belongs to: the fan-out writes to it, and disconnects it.
    return group.join(this.maxQueue, (args.contextValue as RequestContext).connection);
  }
}

function groupKey(args: ExecutionArgs): string {
  if (replays(args)) return `replay:${randomUUID()}`;
  const principal = (args.contextValue as RequestContext).principal;
  return JSON.stringify([
    principal?.role ?? null,
    principal?.channelCode ?? null,
    print(args.document),
    args.operationName ?? null,
    args.variableValues ?? {},
  ]);
}

/** Whether the subscription asks for a replay (`after` given), which no other subscriber shares. */
function replays(args: ExecutionArgs): boolean {
  const operation = getOperationAST(args.document, args.operationName);
  for (const selection of operation?.selectionSet.selections ?? []) {
    if (selection.kind !== Kind.FIELD) continue;
    for (const arg of selection.arguments ?? []) {
      if (arg.name.value !== 'after') continue;
      if (arg.value.kind === Kind.VARIABLE) return args.variableValues?.[arg.value.name.value] != null;
      return arg.value.kind !== Kind.NULL;
    }
  }
  return false;
}

class Group {
  readonly members = new Set<Member>();
  private done = false;

  constructor(
    private readonly source: AsyncGenerator<ExecutionResult, void, void>,
    private readonly forget: () => void,
    private readonly logger: Logger,
  ) {
    void this.pump();
  }

  join(maxQueue: number, connection: Connection | null): Results {
    const member = new Member(maxQueue, connection, () => this.leave(member));
    if (this.done) member.end();
    else this.members.add(member);
    return member.results();
  }

  private leave(member: Member): void {
    this.members.delete(member);
    if (this.members.size === 0 && !this.done) {
      this.done = true;
      this.forget();
      void this.source.return();
    }
  }

  private async pump(): Promise<void> {
    try {
      for await (const result of this.source) {
        // Serialised and encoded once for the whole group: the tail of every member's `next`
        // message. A result with errors takes graphql-ws's path to be formatted.
        const tail = result.errors ? null : Buffer.from(`${JSON.stringify(result)}}`);
        for (const member of this.members) member.push(result, tail);
        // Let sockets flush between events, so a burst does not look like a slow reader.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      this.logger.debug({ err }, 'subscriptions: a shared stream failed');
      for (const member of this.members) member.fail(err);
    } finally {
      if (!this.done) {
        this.done = true;
        this.forget();
      }
      for (const member of this.members) member.end();
    }
  }
}

/** One subscriber's bounded queue, read by graphql-ws; `return()` ends it at once, even while it waits. */
class Member {
  private readonly queue: ExecutionResult[] = [];
  private waiting: {
    resolve: (result: IteratorResult<ExecutionResult, void>) => void;
    reject: (err: Error) => void;
  } | null = null;
  private failure: unknown = null;
  private ended = false;
  /** Messages written to the socket and not yet flushed to the network. */
  private unsent = 0;
  private readonly flushed = () => void this.unsent--;
  /** The head of this subscription's `next` messages, `{"id":…,"type":"next","payload":`, encoded once. */
  private readonly head: Buffer | null;

  constructor(
    private readonly maxQueue: number,
    private readonly connection: Connection | null,
    private readonly detach: () => void,
  ) {
    this.head = connection && Buffer.from(`{"id":${JSON.stringify(connection.id)},"type":"next","payload":`);
  }

  private tooSlow(): void {
    this.end();
    this.connection?.socket.close(SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON);
  }

  push(result: ExecutionResult, tail: Buffer | null): void {
    if (this.ended) return;
    // The same bytes as graphql-ws would send, written straight to the socket: no per-socket
    // serialisation or promise chain. Kept in order behind anything still queued.
    if (this.connection && this.head && tail !== null && this.queue.length === 0) {
      if (this.unsent >= this.maxQueue) return this.tooSlow();
      this.unsent++;
      const message = Buffer.concat([this.head, tail], this.head.length + tail.length);
      this.connection.socket.send(message, TEXT_FRAME, this.flushed);
      return;
    }
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve({ value: result, done: false });
      return;
    }
    if (this.queue.length >= this.maxQueue) return this.tooSlow();
    this.queue.push(result);
  }

  fail(err: unknown): void {
    this.failure = err;
    this.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.detach();
    this.queue.length = 0;
    if (!this.waiting) return;
    const { resolve, reject } = this.waiting;
    this.waiting = null;
    if (this.failure === null) resolve({ value: undefined, done: true });
    else reject(asError(this.failure));
  }

  results(): Results {
    const next = (): Promise<IteratorResult<ExecutionResult, void>> => {
      if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
      if (this.failure !== null) {
        const failure = this.failure;
        this.failure = null;
        return Promise.reject(asError(failure));
      }
      if (this.ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => {
        this.waiting = { resolve, reject };
      });
    };
    const iterator: Results = {
      next,
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
      throw: (err?: unknown) => {
        this.end();
        return Promise.reject(asError(err));
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
