/** graphile-worker's schema: the durable job queue the stock sync (and later deliveries) run on. */
export const JOB_QUEUE_SCHEMA = 'graphile_worker';
