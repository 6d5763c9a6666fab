import { Migration } from '@mikro-orm/migrations';
import {
  enqueueFunction,
  LEAVE_WAITING,
  NOTIFY_QUEUED,
} from './Migration20261203043000_listing_feed_notifications.js';

/**
 * The waiting jobs of a change's listings, looked up one key at a time. As a join, the planner put the job
 * table on the outside whenever its statistics said it was empty (a queue that drains, then ANALYZE): every
 * stock change then read the whole queue, and a burst that filled it slowed each change ~25-fold (80 against
 * 2,000 updates a second). A LATERAL with a locking clause cannot be flattened, so each listing is one probe
 * of the job key's unique index, whatever the statistics say.
 */
const LEAVE_WAITING_BY_KEY = `
  if p_at is null then
    -- A change: a listing whose job is waiting (not running) needs no other, as the job reads the number when
    -- it runs. The row lock keeps the worker from taking that job until this transaction ends, so it cannot
    -- read the number before this change commits; a job already running gets a new one below. Locked in
    -- (product, listing) order, as every enqueue takes job rows.
    select array_agg(l.id order by l.product_id, l.id) into waiting
      from (select cs.id, cs.product_id from channel_sku cs
             where cs.id = any(p_listings)
             order by cs.product_id, cs.id) l
      cross join lateral (select j.id from graphile_worker._private_jobs j
                           where j.key = 'stock-sync:' || l.id and j.locked_at is null
                             and j.attempts < j.max_attempts
                           for update) j;
  end if;`;

export class Migration20261203080000_waiting_job_lookup extends Migration {
  override async up(): Promise<void> {
    this.addSql(enqueueFunction(NOTIFY_QUEUED, LEAVE_WAITING_BY_KEY));
  }

  override async down(): Promise<void> {
    this.addSql(enqueueFunction(NOTIFY_QUEUED, LEAVE_WAITING));
  }
}
