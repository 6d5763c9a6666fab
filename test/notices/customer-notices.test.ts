import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../../common/enums.js';
import { seedChannel, seedProduct } from '../support/fixtures.js';
import { startFakeSms, type FakeSms } from '../support/fake-sms.js';
import { startFakeWechat, type FakeWechat } from '../support/fake-wechat.js';
import { errorCodes, startTestHub, type TestHub } from '../support/hub.js';
import { waitFor } from '../support/wait.js';
import { deliver, sample } from '../support/webhooks.js';

// Customers hear of their order's steps by SMS (Alibaba Cloud SendSms) or WeChat subscribe message: once per
// step, whatever is delivered again; never a marketplace's buyers; never through a masked phone, after an
// opt-out or a refused subscription; no SMS in quiet hours, and a throttle is waited out.

const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`;
const MARK_PAID = `mutation($id: ID!) { markPaid(orderId: $id) { id } }`;
const SHIP = `mutation($id: ID!, $carrier: String!, $tracking: String!) {
  shipOrder(orderId: $id, carrier: $carrier, trackingNumber: $tracking) { id status }
}`;
const TRACK = `mutation($tracking: String!, $status: ShipmentStatus!, $at: DateTime) {
  recordShipmentEvent(trackingNumber: $tracking, status: $status, occurredAt: $at) { id status }
}`;
const NOTICES = `query($id: ID!) {
  order(id: $id) { notices { step provider status sentAt error contactMasked templateCode attemptCount nextAttemptAt } }
}`;
const TEMPLATE = `mutation($channel: String!, $step: NoticeStep!, $provider: NoticeProvider!, $code: String!, $params: JSON!, $urgent: Boolean) {
  setNoticeTemplate(channelCode: $channel, step: $step, provider: $provider, templateCode: $code, params: $params, urgent: $urgent) {
    step provider templateCode params urgent
  }
}`;
const PROVIDER = `mutation($provider: NoticeProvider!, $input: NoticeProviderInput!) {
  setNoticeProvider(provider: $provider, input: $input) { provider baseUrl keyId signName hasSecret }
}`;

interface Notice {
  step: string;
  provider: string | null;
  status: string;
  sentAt: string | null;
  error: string | null;
  contactMasked: string | null;
  templateCode: string | null;
  attemptCount: number;
  nextAttemptAt: string | null;
}

/** Noon in Shanghai: outside quiet hours whatever the real time is. */
const NOON = new Date('2030-06-01T04:00:00Z');

describe('customer notices', () => {
  let hub: TestHub;
  let sms: FakeSms;
  let wechat: FakeWechat;
  let clock = NOON;
  let n = 0;

  const ok = async <T>(query: string, variables: Record<string, unknown>) => {
    const response = await hub.gql<T>(query, variables);
    expect(response.errors).toBeUndefined();
    return response.data!;
  };
  const place = async (contact: { contactPhone?: string; wechatOpenId?: string }, channelCode = 'shop') => {
    const data = await ok<{ placeOrder: { id: string } }>(PLACE, {
      input: {
        channelCode,
        externalId: `SHOP-${++n}`,
        customerName: 'Zhou Jie',
        shippingAddress: { line1: '解放北路 20 号', city: '乌鲁木齐市', country: 'CN' },
        lines: [{ productCode: 'TEA', quantity: 1, unitPrice: '12.50' }],
        ...contact,
      },
    });
    return { id: data.placeOrder.id, externalId: `SHOP-${n}` };
  };
  const paid = async (contact: { contactPhone?: string; wechatOpenId?: string }, channelCode = 'shop') => {
    const order = await place(contact, channelCode);
    await ok(MARK_PAID, { id: order.id });
    return order;
  };
  const notices = async (id: string) =>
    (await ok<{ order: { notices: Notice[] } }>(NOTICES, { id })).order.notices;
  const settled = (id: string, count: number) =>
    waitFor(async () => {
      const list = await notices(id);
      return list.length === count && list.every((x) => x.status !== 'QUEUED');
    }, `${count} notices handled`);
  const smsTo = (phone: string) => sms.sent.filter((m) => m.phone === phone);

  beforeAll(async () => {
    sms = await startFakeSms();
    wechat = await startFakeWechat();
    hub = await startTestHub('customer-notices', {
      notices: {
        now: () => clock,
        pollIntervalMs: 50,
        sweepIntervalMs: 1000,
        throttleWaitMs: 60_000,
        numberLimitWaitMs: 3_600_000,
        timeoutMs: 5000,
        maxAttempts: 5,
      },
    });
    await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'mini', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'yz', Platform.YOUZAN, {
      webhookSecret: 'youzan-secret-0123456789abcdef0123',
    });
    await seedChannel(hub.orm, 'tb', Platform.TAOBAO, {
      webhookSecret: 'taobao-secret-0123456789abcdef0123',
    });
    await seedProduct(hub.orm, 'TEA', 100_000);
    await seedProduct(hub.orm, 'MILK-1L', 100_000);
    await seedProduct(hub.orm, 'ICECREAM-BOX', 100_000);
    await ok(PROVIDER, {
      provider: 'SMS',
      input: {
        baseUrl: sms.url,
        accessKeyId: sms.accessKeyId,
        accessKeySecret: sms.accessKeySecret,
        signName: '小店',
      },
    });
    await ok(PROVIDER, {
      provider: 'WECHAT',
      input: { baseUrl: wechat.url, appId: wechat.appId, appSecret: wechat.appSecret },
    });
    const templates: [string, string, string, string, Record<string, string>][] = [
      ['shop', 'PAID', 'SMS', 'SMS_PAID', { order: '{{externalId}}' }],
      [
        'shop',
        'SHIPPED',
        'SMS',
        'SMS_SHIPPED',
        { order: '{{externalId}}', co: '{{carrier}}', no: '{{trackingNumber}}' },
      ],
      ['shop', 'PICKED_UP', 'SMS', 'SMS_PICKED', { order: '{{externalId}}', no: '{{trackingNumber}}' }],
      ['shop', 'DELIVERED', 'SMS', 'SMS_DELIVERED', { order: '{{externalId}}', time: '{{time}}' }],
      ['yz', 'PAID', 'SMS', 'SMS_YZ_PAID', { order: '{{externalId}}' }],
      [
        'mini',
        'PAID',
        'WECHAT',
        'tmpl-paid',
        {
          character_string1: '{{externalId}}',
          phrase2: '{{stepName}}',
          thing3: '{{customerName}} 的订单已付款，我们会尽快为您发货，请留意物流信息',
        },
      ],
    ];
    for (const [channel, step, provider, code, params] of templates) {
      await ok(TEMPLATE, { channel, step, provider, code, params });
    }
  });

  afterAll(async () => {
    await hub?.close();
    await sms?.close();
    await wechat?.close();
  });

  it('sends four notices along a storefront order, with their variables, and nothing more for events again', async () => {
    const phone = '13812340001';
    const { id, externalId } = await paid({ contactPhone: phone });
    await ok(SHIP, { id, carrier: 'SF', tracking: 'SF1001' });
    const pickedAt = new Date(Date.now() - 60_000).toISOString();
    await ok(TRACK, { tracking: 'SF1001', status: 'PICKED_UP', at: pickedAt });
    const deliveredAt = new Date(Date.now() - 30_000).toISOString();
    await ok(TRACK, { tracking: 'SF1001', status: 'DELIVERED', at: deliveredAt });
    await waitFor(() => smsTo(phone).length === 4, 'four SMS');

    expect(smsTo(phone).map((m) => [m.templateCode, m.params])).toEqual([
      ['SMS_PAID', { order: externalId }],
      ['SMS_SHIPPED', { order: externalId, co: 'SF', no: 'SF1001' }],
      ['SMS_PICKED', { order: externalId, no: 'SF1001' }],
      [
        'SMS_DELIVERED',
        { order: externalId, time: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/) },
      ],
    ]);
    expect(smsTo(phone).every((m) => m.signName === '小店')).toBe(true);
    await settled(id, 4);
    const list = await notices(id);
    expect(list.map((x) => [x.step, x.provider, x.status, x.contactMasked])).toEqual([
      ['PAID', 'SMS', 'SENT', '138****0001'],
      ['SHIPPED', 'SMS', 'SENT', '138****0001'],
      ['PICKED_UP', 'SMS', 'SENT', '138****0001'],
      ['DELIVERED', 'SMS', 'SENT', '138****0001'],
    ]);
    expect(list.every((x) => x.sentAt && x.error === null)).toBe(true);

    // The same scan-out, the same carrier events, and a later pickup scan of the same parcel.
    await ok(SHIP, { id, carrier: 'SF', tracking: 'SF1001' });
    await ok(TRACK, { tracking: 'SF1001', status: 'PICKED_UP', at: pickedAt });
    await ok(TRACK, { tracking: 'SF1001', status: 'DELIVERED', at: deliveredAt });
    await ok(TRACK, {
      tracking: 'SF1001',
      status: 'PICKED_UP',
      at: new Date(Date.now() - 10_000).toISOString(),
    });
    expect(errorCodes(await hub.gql(MARK_PAID, { id }))).toEqual(['INVALID_TRANSITION']);
    // Notices are made in the change's own transaction: none was made, so none can be sent.
    expect(await notices(id)).toHaveLength(4);
    // A later order's notice, sent after these: the queue has nothing of the first order left.
    const next = await paid({ contactPhone: '13812340002' });
    await waitFor(() => smsTo('13812340002').length === 1, 'the next order');
    await settled(next.id, 1);
    expect(smsTo(phone)).toHaveLength(4);
  });

  it('tells a Youzan buyer once however often the webhook comes, and never a Taobao buyer', async () => {
    const payload = sample('youzan');
    for (let i = 0; i < 2; i++) {
      const reply = await deliver(hub.url.replace('/graphql', ''), 'yz', payload, {
        secret: 'youzan-secret-0123456789abcdef0123',
      });
      expect(reply.status).toBe(200);
    }
    await waitFor(() => smsTo('13500000000').length === 1, 'the Youzan buyer told');
    const [{ id: yzOrder }] = await hub.orm.em
      .fork()
      .execute<{ id: string }[]>(
        `select o.id from "order" o join channel c on c.id = o.channel_id where c.code = 'yz'`,
      );
    await settled(yzOrder, 1);
    expect(smsTo('13500000000')[0]).toMatchObject({
      templateCode: 'SMS_YZ_PAID',
      params: { order: 'E20261111201530012345' },
    });

    // A template set behind the API's back: the database itself still tells no marketplace buyer.
    await hub.orm.em.fork().execute(
      `insert into notice_template (channel_id, step, provider, template_code, params)
       select id, 'PAID', 'SMS', 'SMS_TB', '{}' from channel where code = 'tb'`,
    );
    const tb = await deliver(hub.url.replace('/graphql', ''), 'tb', sample('taobao'), {
      secret: 'taobao-secret-0123456789abcdef0123',
    });
    expect(tb.status).toBe(200);
    expect(await notices(tb.body.orderId)).toEqual([]);
    expect(
      errorCodes(
        await hub.gql(TEMPLATE, {
          channel: 'tb',
          step: 'PAID',
          provider: 'SMS',
          code: 'SMS_TB',
          params: {},
        }),
      ),
    ).toEqual(['NOTICES_NOT_FOR_CHANNEL']);
  });

  it('holds an SMS reached at 23:00 channel time until 08:00, then sends it', async () => {
    // 23:00 in Shanghai.
    clock = new Date('2030-06-01T15:00:00Z');
    try {
      const phone = '13812340003';
      const { id } = await paid({ contactPhone: phone });
      await waitFor(async () => (await notices(id))[0]?.status === 'HELD', 'the SMS held');
      const [held] = await notices(id);
      // 08:00 in Shanghai.
      expect(held).toMatchObject({
        provider: 'SMS',
        nextAttemptAt: '2030-06-02T00:00:00.000Z',
        sentAt: null,
      });
      const [job] = await hub.orm.em.fork().execute<{ run_at: Date }[]>(
        `select run_at from graphile_worker._private_jobs where key = 'customer-notice:' ||
           (select id from notice where order_id = ?)`,
        [id],
      );
      expect(new Date(job.run_at).toISOString()).toBe('2030-06-02T00:00:00.000Z');
      expect(smsTo(phone)).toEqual([]);

      clock = new Date('2030-06-02T00:00:00Z');
      hub.notices!.wake();
      await waitFor(() => smsTo(phone).length === 1, 'the SMS sent at 08:00');
      await waitFor(async () => (await notices(id))[0]?.status === 'SENT', 'recorded as sent');
    } finally {
      clock = NOON;
    }
  });

  it('skips a customer who opted out, a masked phone and an order without a contact', async () => {
    clock = new Date('2030-06-01T15:00:00Z');
    let optedOut: string;
    try {
      // Held in quiet hours, then the customer opts out before 08:00.
      ({ id: optedOut } = await paid({ contactPhone: '13812340004' }));
      await waitFor(async () => (await notices(optedOut))[0]?.status === 'HELD', 'held');
      await ok(`mutation($id: ID!) { optOutOfNotices(orderId: $id) { id } }`, { id: optedOut });
    } finally {
      clock = NOON;
    }
    hub.notices!.wake();
    await ok(SHIP, { id: optedOut, carrier: 'SF', tracking: 'SF1004' });
    const masked = await paid({ contactPhone: '138****1234' });
    const none = await paid({});
    await waitFor(async () => (await notices(masked.id))[0]?.status === 'SKIPPED', 'masked skipped');
    await waitFor(async () => (await notices(none.id))[0]?.status === 'SKIPPED', 'no contact skipped');
    await waitFor(
      async () => (await notices(optedOut)).every((x) => x.status === 'SKIPPED'),
      'opted out skipped',
    );
    const out = await notices(optedOut);
    expect(out.map((x) => [x.step, x.status, x.error])).toEqual([
      ['PAID', 'SKIPPED', 'The customer opted out of notices.'],
      ['SHIPPED', 'SKIPPED', 'The customer opted out of notices.'],
    ]);
    expect((await notices(masked.id))[0]).toMatchObject({
      contactMasked: '138****1234',
      error: expect.stringContaining('masked'),
      attemptCount: 0,
    });
    expect((await notices(none.id))[0].error).toMatch(/no contact/);
    expect(
      sms.requests.filter((r) => ['13812340004', '138****1234'].includes(r.params.PhoneNumbers)),
    ).toEqual([]);
  });

  it('waits out a throttle and a number limit instead of hammering the gateway', async () => {
    sms.cue('Throttling.User');
    const phone = '13812340005';
    const before = sms.requests.length;
    const { id } = await paid({ contactPhone: phone });
    await waitFor(async () => (await notices(id))[0]?.attemptCount === 1, 'the throttled attempt');
    const [throttled] = await notices(id);
    expect(throttled).toMatchObject({ status: 'QUEUED', error: expect.stringContaining('Throttling.User') });
    const wait = new Date(throttled.nextAttemptAt!).getTime() - clock.getTime();
    expect(wait).toBeGreaterThanOrEqual(48_000);
    expect(sms.requests.length - before).toBe(1);

    // The number's own limit: an hour (±20 %), not a few seconds.
    sms.cue('isv.BUSINESS_LIMIT_CONTROL');
    clock = new Date(clock.getTime() + 120_000);
    try {
      hub.notices!.wake();
      await waitFor(async () => (await notices(id))[0]?.attemptCount === 2, 'the limited attempt');
      const [limited] = await notices(id);
      expect(limited).toMatchObject({
        status: 'QUEUED',
        error: expect.stringContaining('BUSINESS_LIMIT_CONTROL'),
      });
      expect(new Date(limited.nextAttemptAt!).getTime() - clock.getTime()).toBeGreaterThanOrEqual(
        48 * 60_000,
      );
      expect(sms.requests.length - before).toBe(2);

      clock = new Date(clock.getTime() + 2 * 3_600_000);
      hub.notices!.wake();
      await waitFor(() => smsTo(phone).length === 1, 'sent once the limit has passed');
      await waitFor(async () => (await notices(id))[0]?.status === 'SENT', 'recorded');
      expect(sms.requests.length - before).toBe(3);
    } finally {
      clock = NOON;
    }
  });

  it('fails a notice whose signature the gateway refuses, and keeps the secret write-only and sealed', async () => {
    await ok(PROVIDER, {
      provider: 'SMS',
      input: {
        baseUrl: sms.url,
        accessKeyId: sms.accessKeyId,
        accessKeySecret: 'not-the-secret',
        signName: '小店',
      },
    });
    try {
      const { id } = await paid({ contactPhone: '13812340006' });
      await waitFor(async () => (await notices(id))[0]?.status === 'FAILED', 'refused');
      expect((await notices(id))[0].error).toMatch(/^SignatureDoesNotMatch/);
    } finally {
      // Left out, the secret stays as stored: set the right one again.
      await ok(PROVIDER, {
        provider: 'SMS',
        input: {
          baseUrl: sms.url,
          accessKeyId: sms.accessKeyId,
          accessKeySecret: sms.accessKeySecret,
          signName: '小店',
        },
      });
    }
    const listed = await ok<{ noticeProviders: Record<string, unknown>[] }>(
      `{ noticeProviders { provider keyId hasSecret } }`,
      {},
    );
    expect(listed.noticeProviders).toEqual([
      { provider: 'SMS', keyId: sms.accessKeyId, hasSecret: true },
      { provider: 'WECHAT', keyId: wechat.appId, hasSecret: true },
    ]);
    const rows = await hub.orm.em
      .fork()
      .execute<{ secret_sealed: string }[]>(`select secret_sealed from notice_provider`);
    for (const row of rows) {
      expect(row.secret_sealed).toMatch(/^v1:/);
      expect(row.secret_sealed).not.toContain(sms.accessKeySecret);
      expect(row.secret_sealed).not.toContain(wechat.appSecret);
    }
  });

  it('sends WeChat subscribe messages within their limits, skips on 43101, and renews an expired token once', async () => {
    const { id, externalId } = await paid({ wechatOpenId: 'o-openid-0001' }, 'mini');
    await waitFor(() => wechat.sent.length === 1, 'the first message');
    expect(wechat.sent[0]).toMatchObject({
      touser: 'o-openid-0001',
      template_id: 'tmpl-paid',
      data: { character_string1: { value: externalId }, phrase2: { value: '已支付' } },
    });
    // The thing was cut to its 20 characters, not refused.
    expect([...wechat.sent[0].data.thing3.value]).toHaveLength(20);
    await waitFor(async () => (await notices(id))[0]?.status === 'SENT', 'recorded');
    expect((await notices(id))[0]).toMatchObject({ provider: 'WECHAT', contactMasked: 'o-op…0001' });
    expect(wechat.tokensIssued).toHaveLength(1);

    wechat.cue(43101);
    const refused = await paid({ wechatOpenId: 'o-openid-0002' }, 'mini');
    await waitFor(async () => (await notices(refused.id))[0]?.status === 'SKIPPED', 'no subscription left');
    expect((await notices(refused.id))[0].error).toMatch(/43101/);

    wechat.cue(42001);
    const sendsBefore = wechat.sends.length;
    const renewed = await paid({ wechatOpenId: 'o-openid-0003' }, 'mini');
    await waitFor(async () => (await notices(renewed.id))[0]?.status === 'SENT', 'sent with a new token');
    expect(wechat.tokensIssued).toHaveLength(2);
    expect(wechat.sends.slice(sendsBefore).map((s) => s.errcode)).toEqual([42001, 0]);
    const [stored] = await hub.orm.em
      .fork()
      .execute<{ token_sealed: string }[]>(`select token_sealed from wechat_token`);
    expect(stored.token_sealed).toMatch(/^v1:/);
  });

  it('refuses a character_string over 32 characters before sending', async () => {
    await ok(TEMPLATE, {
      channel: 'mini',
      step: 'PAID',
      provider: 'WECHAT',
      code: 'tmpl-long',
      params: { character_string1: '{{orderId}}-{{externalId}}' },
    });
    const sendsBefore = wechat.sends.length;
    const { id } = await paid({ wechatOpenId: 'o-openid-0004' }, 'mini');
    await waitFor(async () => (await notices(id))[0]?.status === 'FAILED', 'refused before sending');
    expect((await notices(id))[0].error).toMatch(/character_string1 .* at most 32/);
    expect(wechat.sends.length).toBe(sendsBefore);
  });
  it('sends a notice whose sender died (kill -9) once the sweep finds it without a job', async () => {
    const phone = '13812340007';
    const { id, externalId } = await place({ contactPhone: phone });
    // As a process killed mid-send leaves it: claimed by a process whose lock is gone, its job completed.
    await hub.orm.em.fork().execute(
      `insert into notice (order_id, channel_code, step, reached_at, sending_owner, sending_since)
       values (?, 'shop', 'PAID', now(), 'hub-killed', now())`,
      [id],
    );
    expect(await hub.notices!.sweep()).toBe(1);
    await waitFor(() => smsTo(phone).length === 1, 'sent by this process');
    expect(smsTo(phone)[0]).toMatchObject({ templateCode: 'SMS_PAID', params: { order: externalId } });
    await waitFor(async () => (await notices(id))[0]?.status === 'SENT', 'recorded');
  });
  it("reads quiet hours in the channel's time zone, sends an urgent template at night, and keeps to the channel's steps", async () => {
    await seedChannel(hub.orm, 'ny', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'night', Platform.STOREFRONT);
    const settings = await ok<{ setChannelNotices: { timeZone: string; noticeSteps: string[] } }>(
      `mutation { setChannelNotices(channelCode: "ny", input: { timeZone: "America/New_York", steps: [PAID, DELIVERED] }) {
        timeZone noticeSteps } }`,
      {},
    );
    expect(settings.setChannelNotices).toEqual({
      timeZone: 'America/New_York',
      noticeSteps: ['DELIVERED', 'PAID'],
    });
    for (const step of ['PAID', 'SHIPPED']) {
      await ok(TEMPLATE, { channel: 'ny', step, provider: 'SMS', code: `SMS_NY_${step}`, params: {} });
    }
    await ok(TEMPLATE, {
      channel: 'night',
      step: 'PAID',
      provider: 'SMS',
      code: 'SMS_URGENT',
      params: {},
      urgent: true,
    });
    // 23:00 in Shanghai, 11:00 in New York.
    clock = new Date('2030-06-01T15:00:00Z');
    try {
      const ny = await paid({ contactPhone: '13812340008' }, 'ny');
      const night = await paid({ contactPhone: '13812340009' }, 'night');
      await waitFor(
        () => smsTo('13812340008').length === 1 && smsTo('13812340009').length === 1,
        'both sent',
      );
      expect(smsTo('13812340009')[0].templateCode).toBe('SMS_URGENT');
      await ok(SHIP, { id: ny.id, carrier: 'SF', tracking: 'SF1008' });
      // SHIPPED is not among the New York channel's steps: no notice, though it has a template.
      await waitFor(async () => (await notices(ny.id))[0]?.status === 'SENT', 'recorded');
      expect((await notices(ny.id)).map((x) => x.step)).toEqual(['PAID']);
      await waitFor(async () => (await notices(night.id))[0]?.status === 'SENT', 'urgent recorded');
    } finally {
      clock = NOON;
    }
  });
});
