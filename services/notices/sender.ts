import pg from 'pg';
import { pgPoolFigures, type HubMetrics } from '../metrics.js';
import { Agent, request } from 'undici';
import { NoticeProvider, NoticeStatus } from '../../common/enums.js';
import { JOB_QUEUE_SCHEMA } from '../../common/job-queue.js';
import type { Logger } from '../../server/logger.js';
import { coalesced, holdRetakingLock, startQueueLoop, type RetakingLock } from '../queue-loop.js';
import type { Sealer } from '../secret-box.js';
import { providerSecretAad } from './admin.js';
import {
  fillParams,
  isMaskedPhone,
  localTime,
  mainlandMobile,
  maskOpenId,
  maskPhone,
  quietUntil,
  stepName,
  wechatData,
  WechatValueError,
} from './render.js';
import { SMS_DEFAULT_BASE_URL, sendSmsParams, smsVerdict } from './sms.js';
import {
  WECHAT_DEFAULT_BASE_URL,
  wechatToken,
  wechatVerdict,
  type FetchToken,
  type WechatAccount,
} from './wechat.js';

/**
 * Sends customer notices, in one hub process. The database gives each notice a `customer_notice` job when
 * the order reaches the step; this process takes due jobs (FOR UPDATE SKIP LOCKED, completed as taken), claims
 * each notice under its process lock (a notice whose sender died is taken again), decides what to send and
 * to whom now (opt-out, contact, template, quiet hours), sends it and records the outcome, queueing the
 * notice's next try in the same statement when there is one. A sweep queues any open notice left without a
 * job. A notice may reach the customer twice only when an SMS or message went out but its answer did not come
 * back (a timeout, a process killed between the answer and the record): it is tried again.
 */

export interface NoticeSenderSettings {
  /** Notices under way at once in this process; 0: it sends none. */
  concurrency: number;
  timeoutMs: number;
  pollIntervalMs: number;
  sweepIntervalMs: number;
  /** Wait after `Throttling.User` (the account's rate). */
  throttleWaitMs: number;
  /** Wait after `isv.BUSINESS_LIMIT_CONTROL` (the number's own limit: not soon). */
  numberLimitWaitMs: number;
  /** Backoff after no answer (a timeout, a network error, a 5xx): base × 2^n, at most max, with jitter. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Tries before a notice that keeps being throttled or unanswered is FAILED. */
  maxAttempts: number;
  /** The clock quiet hours are read by (tests set it); jobs are due by it or by the database's, the later. */
  now: () => Date;
}

export interface NoticeSenderDeps {
  databaseUrl: string;
  logger: Logger;
  settings: NoticeSenderSettings;
  sealer: Pick<Sealer, 'open' | 'seal'>;
  /** The hub's: this pool's connections are shown there. */
  metrics: HubMetrics;
}

export interface NoticeSender {
  /** Queues every open notice that has no job and no live sender; returns how many. */
  sweep(): Promise<number>;
  /** Takes due notices now (tests, after moving the clock). */
  wake(): void;
  stop(): Promise<void>;
}

const TAKE = `
with due as (
  select j.id from ${JOB_QUEUE_SCHEMA}._private_jobs j
   where j.is_available and j.job_queue_id is null and j.run_at <= greatest(now(), $3::timestamptz)
     and j.key like 'customer-notice:%'
   order by j.run_at, j.id
   limit $1
   for update skip locked
), done as (
  select (c.payload->>'noticeId')::bigint as id
    from ${JOB_QUEUE_SCHEMA}.complete_jobs(array(select id from due)) c
), picked as (
  select n.id from notice n join done using (id)
   where n.status in ('QUEUED', 'HELD')
     and (n.sending_owner is null or not hub_process_alive(n.sending_owner))
     and not exists (select 1 from notice e
                      where e.order_id = n.order_id and e.status in ('QUEUED', 'HELD') and e.id < n.id)
   for update of n skip locked
)
update notice n set sending_owner = $2, sending_since = now()
  from picked where n.id = picked.id
returning n.id::text`;

/** What a notice needs to be sent: its order, channel, templates for the step and the last parcel. */
const DETAILS = `
select n.id::text, n.step, n.reached_at, n.attempt_count, o.id as order_id, o.external_id, o.customer_name,
       o.contact_phone, o.wechat_open_id, o.notices_opted_out_at, c.time_zone,
       coalesce((select json_agg(json_build_object('provider', t.provider, 'templateCode', t.template_code,
                                                   'params', t.params, 'urgent', t.urgent, 'page', t.page))
                   from notice_template t where t.channel_id = c.id and t.step = n.step), '[]') as templates,
       (select json_build_object('carrier', s.carrier, 'trackingNumber', s.tracking_number)
          from shipment s where s.order_id = o.id order by s.created_at desc, s.id desc limit 1) as shipment
  from notice n join "order" o on o.id = n.order_id join channel c on c.id = o.channel_id
 where n.id = any($1::bigint[])`;

const RECORD = `
  update notice set status = $3::text, provider = $4::text, contact_masked = $5::text, template_code = $6::text,
         error = $7::text, attempt_count = attempt_count + $8::int, next_attempt_at = $9::timestamptz,
         provider_message_id = $10::text, sent_at = case when $3::text = 'SENT' then now() end,
         sending_owner = null, sending_since = null
   where id = $1::bigint and sending_owner = $2::text
  returning order_id`;

/** The order's line goes on, after the record commits with it: this notice again (a retry, 08:00), or the next. */
const QUEUE_ORDER = `
select hub_notice_queue(array(select min(id) from notice where order_id = $1 and status in ('QUEUED', 'HELD')))`;

const SWEEP = `
select hub_notice_queue(array(
  select n.id from notice n
   where n.status in ('QUEUED', 'HELD')
     and (n.sending_owner is null or not hub_process_alive(n.sending_owner))
     and not exists (select 1 from ${JOB_QUEUE_SCHEMA}._private_jobs j
                      where j.key = 'customer-notice:' || n.id and j.locked_at is null)
)) as queued`;

interface Template {
  provider: NoticeProvider;
  templateCode: string;
  params: Record<string, string>;
  urgent: boolean;
  page: string | null;
}

interface NoticeRow {
  id: string;
  step: string;
  reached_at: Date;
  attempt_count: number;
  order_id: string;
  external_id: string;
  customer_name: string;
  contact_phone: string | null;
  wechat_open_id: string | null;
  notices_opted_out_at: Date | null;
  time_zone: string;
  templates: Template[];
  shipment: { carrier: string; trackingNumber: string } | null;
}

interface Account {
  provider: string;
  base_url: string | null;
  key_id: string;
  secret_sealed: string;
  sign_name: string | null;
}

interface Outcome {
  status: NoticeStatus;
  provider: NoticeProvider | null;
  contactMasked: string | null;
  templateCode: string | null;
  error: string | null;
  /** 1 when the provider was asked. */
  attempted: 0 | 1;
  nextAttemptAt: Date | null;
  messageId: string | null;
}

/** A provider's answer that is neither a success nor a refusal: no answer, a 5xx, a body not JSON. */
class NoAnswerError extends Error {
  override name = 'NoAnswerError';
}

export async function startNoticeSender(deps: NoticeSenderDeps): Promise<NoticeSender> {
  const { settings, logger } = deps;
  const pool = new pg.Pool({
    connectionString: deps.databaseUrl,
    max: 5,
    application_name: 'order-hub-notices',
  });
  pool.on('error', (err) => logger.warn({ err }, 'notices: database connection lost'));
  pool.on('connect', (client) => client.on('error', () => {}));
  const unwatchPool = deps.metrics.watchPool('notices', pgPoolFigures(pool));
  const agent = new Agent({ headersTimeout: settings.timeoutMs, bodyTimeout: settings.timeoutMs });
  const stopping = new AbortController();
  const sends = new Set<Promise<void>>();
  let inFlight = 0;
  // Notices are claimed under this process's lock: one that dies with its process is taken over.
  let lock: RetakingLock;
  try {
    lock = await holdRetakingLock({
      databaseUrl: deps.databaseUrl,
      logger,
      label: 'notices',
      stopping: stopping.signal,
    });
  } catch (err) {
    await agent.close();
    unwatchPool();
    await pool.end();
    throw err;
  }

  const take = coalesced(async () => {
    try {
      for (;;) {
        const room = settings.concurrency - inFlight;
        const held = lock.current();
        if (room <= 0 || !held || stopping.signal.aborted) break;
        const { rows } = await pool.query<{ id: string }>(TAKE, [room, held.processId, settings.now()]);
        if (!rows.length) break;
        inFlight += rows.length;
        const sending = sendAll(rows.map((r) => r.id)).finally(() => {
          sends.delete(sending);
          inFlight -= rows.length;
          void take();
        });
        sends.add(sending);
        if (rows.length < room) break;
      }
    } catch (err) {
      logger.warn({ err }, 'notices: taking due notices failed');
    }
  });

  const sendAll = async (ids: string[]): Promise<void> => {
    let notices: NoticeRow[];
    let accounts: Account[];
    try {
      notices = (await pool.query<NoticeRow>(DETAILS, [ids])).rows;
      accounts = (await pool.query<Account>('select * from notice_provider')).rows;
    } catch (err) {
      // Left claimed: the sweep queues them again once this claim is gone (after a restart).
      logger.error({ err }, 'notices: reading the notices taken failed');
      return;
    }
    await Promise.all(
      notices.map(async (notice) => {
        let outcome: Outcome;
        try {
          outcome = await decideAndSend(notice, accounts);
        } catch (err) {
          // Counted as an attempt, so a fault that stays (a secret that no longer opens) ends at FAILED.
          outcome = retry(notice, null, null, null, `Unexpected: ${(err as Error).message}`, 1);
          logger.error({ err, noticeId: notice.id }, 'notices: sending failed unexpectedly');
        }
        try {
          await record(notice, outcome);
        } catch (err) {
          logger.error({ err, noticeId: notice.id }, 'notices: recording an outcome failed');
        }
      }),
    );
  };

  const record = async (notice: NoticeRow, o: Outcome): Promise<void> => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<{ order_id: string }>(RECORD, [
        notice.id,
        lock.current()?.processId ?? '',
        o.status,
        o.provider,
        o.contactMasked,
        o.templateCode,
        o.error,
        o.attempted,
        o.nextAttemptAt,
        o.messageId,
      ]);
      if (rows[0]) await client.query(QUEUE_ORDER, [rows[0].order_id]);
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
    const line = {
      noticeId: notice.id,
      orderId: notice.order_id,
      step: notice.step,
      provider: o.provider,
      contact: o.contactMasked,
      status: o.status,
      error: o.error,
    };
    if (o.status === NoticeStatus.FAILED) logger.warn(line, 'notices: a notice failed');
    else logger.info(line, 'notices: a notice was handled');
  };

  const done = (status: NoticeStatus, error: string | null, extra: Partial<Outcome> = {}): Outcome => ({
    status,
    provider: null,
    contactMasked: null,
    templateCode: null,
    error,
    attempted: 0,
    nextAttemptAt: null,
    messageId: null,
    ...extra,
  });

  /** Tried again after `waitMs` (backoff with jitter when null), FAILED once out of attempts. */
  const retry = (
    notice: NoticeRow,
    provider: NoticeProvider | null,
    contactMasked: string | null,
    templateCode: string | null,
    error: string,
    attempted: 0 | 1,
    waitMs: number | null = null,
  ): Outcome => {
    const attempts = notice.attempt_count + attempted;
    const base = { provider, contactMasked, templateCode, attempted };
    if (attempts >= settings.maxAttempts) {
      return done(NoticeStatus.FAILED, `${error} (given up after ${attempts} attempts)`, base);
    }
    const backoff = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** attempts);
    // ±20 %: notices that failed together do not all come back at once.
    const wait = Math.round((waitMs ?? backoff) * (0.8 + Math.random() * 0.4));
    return done(NoticeStatus.QUEUED, error, {
      ...base,
      nextAttemptAt: new Date(settings.now().getTime() + wait),
    });
  };

  const decideAndSend = async (notice: NoticeRow, accounts: Account[]): Promise<Outcome> => {
    if (notice.notices_opted_out_at) return done(NoticeStatus.SKIPPED, 'The customer opted out of notices.');
    const template = (provider: NoticeProvider) => notice.templates.find((t) => t.provider === provider);
    const wechat = template(NoticeProvider.WECHAT);
    const sms = template(NoticeProvider.SMS);
    const values = {
      externalId: notice.external_id,
      orderId: notice.order_id,
      customerName: notice.customer_name,
      carrier: notice.shipment?.carrier ?? '',
      trackingNumber: notice.shipment?.trackingNumber ?? '',
      time: localTime(new Date(notice.reached_at), notice.time_zone),
      stepName: stepName(notice.step),
    };
    // WeChat first where both reach the customer: it costs nothing and keeps no quiet hours.
    if (notice.wechat_open_id && wechat) {
      return sendWechat(notice, wechat, fillParams(wechat.params, values), accounts);
    }
    const phone = notice.contact_phone;
    if (!phone) {
      return done(
        NoticeStatus.SKIPPED,
        notice.wechat_open_id
          ? 'The order has a WeChat openid but no WeChat template is set for this step, and no phone.'
          : 'The order has no contact (phone or WeChat openid).',
      );
    }
    const masked = maskPhone(phone);
    if (isMaskedPhone(phone)) {
      return done(NoticeStatus.SKIPPED, 'The phone is masked: the customer cannot be reached with it.', {
        contactMasked: masked,
      });
    }
    const mobile = mainlandMobile(phone);
    if (!mobile) {
      return done(NoticeStatus.SKIPPED, 'The phone is not a mainland mobile number SMS can reach.', {
        contactMasked: masked,
      });
    }
    if (!sms) {
      return done(NoticeStatus.SKIPPED, 'No SMS template is set for this step.', { contactMasked: masked });
    }
    const base = {
      provider: NoticeProvider.SMS,
      contactMasked: masked,
      templateCode: sms.templateCode,
    };
    const until = sms.urgent ? null : quietUntil(settings.now(), notice.time_zone);
    if (until) {
      return done(NoticeStatus.HELD, null, { ...base, nextAttemptAt: until });
    }
    const account = accounts.find((a) => a.provider === NoticeProvider.SMS);
    if (!account?.sign_name) {
      return done(NoticeStatus.FAILED, 'No SMS account is set (setNoticeProvider).', base);
    }
    const params = sendSmsParams(
      {
        accessKeyId: account.key_id,
        accessKeySecret: deps.sealer.open(account.secret_sealed, providerSecretAad(NoticeProvider.SMS)),
        signName: account.sign_name,
      },
      {
        phone: mobile,
        templateCode: sms.templateCode,
        params: fillParams(sms.params, values),
        outId: notice.id,
      },
      new Date(),
    );
    let reply: Record<string, unknown>;
    try {
      reply = await call(`${account.base_url ?? SMS_DEFAULT_BASE_URL}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(params).toString(),
      });
    } catch (err) {
      return retry(notice, base.provider, masked, sms.templateCode, (err as Error).message, 1);
    }
    const verdict = smsVerdict(reply);
    if (verdict.kind === 'sent') {
      return done(NoticeStatus.SENT, null, { ...base, attempted: 1, messageId: verdict.messageId });
    }
    if (verdict.kind === 'throttled') {
      const wait = verdict.perNumber ? settings.numberLimitWaitMs : settings.throttleWaitMs;
      return retry(notice, base.provider, masked, sms.templateCode, verdict.message, 1, wait);
    }
    return done(NoticeStatus.FAILED, verdict.message, { ...base, attempted: 1 });
  };

  const sendWechat = async (
    notice: NoticeRow,
    template: Template,
    params: Record<string, string>,
    accounts: Account[],
  ): Promise<Outcome> => {
    const openId = notice.wechat_open_id!;
    const base = {
      provider: NoticeProvider.WECHAT,
      contactMasked: maskOpenId(openId),
      templateCode: template.templateCode,
    };
    let data: Record<string, { value: string }>;
    try {
      data = wechatData(params);
    } catch (err) {
      if (err instanceof WechatValueError) return done(NoticeStatus.FAILED, err.message, base);
      throw err;
    }
    const row = accounts.find((a) => a.provider === NoticeProvider.WECHAT);
    if (!row) return done(NoticeStatus.FAILED, 'No WeChat account is set (setNoticeProvider).', base);
    const account: WechatAccount = {
      baseUrl: row.base_url ?? WECHAT_DEFAULT_BASE_URL,
      appId: row.key_id,
      appSecret: deps.sealer.open(row.secret_sealed, providerSecretAad(NoticeProvider.WECHAT)),
    };
    const body = JSON.stringify({
      touser: openId,
      template_id: template.templateCode,
      ...(template.page ? { page: template.page.replaceAll('{{orderId}}', notice.order_id) } : {}),
      miniprogram_state: 'formal',
      lang: 'zh_CN',
      data,
    });
    let stale: string | null = null;
    // The second round only after WeChat called the token invalid: one new token, one more try.
    for (let round = 0; round < 2; round++) {
      let verdict;
      try {
        const token = await wechatToken(pool, deps.sealer, account, fetchToken, stale);
        const url = `${account.baseUrl}/cgi-bin/message/subscribe/send?access_token=${encodeURIComponent(token)}`;
        verdict = wechatVerdict(
          await call(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
        );
        stale = token;
      } catch (err) {
        return retry(notice, base.provider, base.contactMasked, base.templateCode, (err as Error).message, 1);
      }
      if (verdict.kind === 'sent') {
        return done(NoticeStatus.SENT, null, { ...base, attempted: 1, messageId: verdict.messageId });
      }
      if (verdict.kind === 'unsubscribed') {
        return done(NoticeStatus.SKIPPED, `The customer has no subscription left (${verdict.message}).`, {
          ...base,
          attempted: 1,
        });
      }
      if (verdict.kind === 'refused')
        return done(NoticeStatus.FAILED, verdict.message, { ...base, attempted: 1 });
    }
    return retry(
      notice,
      base.provider,
      base.contactMasked,
      base.templateCode,
      'The WeChat token was refused twice.',
      1,
    );
  };

  const fetchToken: FetchToken = async (account) => {
    const url = new URL(`${account.baseUrl}/cgi-bin/token`);
    url.search = new URLSearchParams({
      grant_type: 'client_credential',
      appid: account.appId,
      secret: account.appSecret,
    }).toString();
    const reply = await call(url.toString(), { method: 'GET' });
    if (typeof reply.access_token !== 'string' || !reply.access_token) {
      throw new NoAnswerError(`WeChat gave no token (${String(reply.errcode)}: ${String(reply.errmsg)}).`);
    }
    const expiresIn = Number(reply.expires_in);
    return { token: reply.access_token, expiresInSeconds: Number.isFinite(expiresIn) ? expiresIn : 7200 };
  };

  /** One request whose answer is a JSON object (providers answer errors as JSON too, on 4xx). */
  const call = async (
    url: string,
    init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
  ): Promise<Record<string, unknown>> => {
    let status: number;
    let text: string;
    try {
      const reply = await request(url, {
        ...init,
        dispatcher: agent,
        signal: AbortSignal.any([AbortSignal.timeout(settings.timeoutMs), stopping.signal]),
      });
      status = reply.statusCode;
      text = await reply.body.text();
    } catch (err) {
      const e = err as Error & { code?: string; cause?: { code?: string } };
      if (e.name === 'TimeoutError' || e.code?.includes('TIMEOUT')) {
        throw new NoAnswerError(`No answer within ${settings.timeoutMs} ms.`);
      }
      throw new NoAnswerError(`The provider could not be reached (${e.cause?.code ?? e.code ?? e.message}).`);
    }
    if (status >= 500) throw new NoAnswerError(`The provider answered HTTP ${status}.`);
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown>;
    } catch {
      // below
    }
    throw new NoAnswerError(`The provider answered HTTP ${status} without a JSON object.`);
  };

  const sweep = async (): Promise<number> => {
    const { rows } = await pool.query<{ queued: number }>(SWEEP);
    return rows[0]?.queued ?? 0;
  };

  // The poll catches retries and held notices coming due.
  const loop = await startQueueLoop({
    databaseUrl: deps.databaseUrl,
    logger,
    label: 'notices',
    take: () => void take(),
    sweep,
    pollIntervalMs: settings.pollIntervalMs,
    sweepIntervalMs: settings.sweepIntervalMs,
  });

  return {
    sweep,
    wake: () => void take(),
    async stop() {
      stopping.abort(new Error('The hub is stopping.'));
      await loop.stop();
      await Promise.all([...sends]);
      await lock.release();
      await agent.close();
      unwatchPool();
      await pool.end();
    },
  };
}
