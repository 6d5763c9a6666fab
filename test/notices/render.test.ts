import { describe, expect, it } from 'vitest';
import {
  fillParams,
  localTime,
  mainlandMobile,
  maskPhone,
  quietUntil,
  wechatData,
  WechatValueError,
} from '../../services/notices/render.js';

describe('notice rendering', () => {
  it('fills placeholders and leaves the rest of the text', () => {
    const values = {
      externalId: 'A-1',
      orderId: 'id',
      customerName: 'Zhou',
      carrier: 'SF',
      trackingNumber: 'SF123',
      time: '2026-12-03 20:15',
      stepName: '已发货',
    };
    expect(fillParams({ order: '{{externalId}}', no: '单号 {{ trackingNumber }}' }, values)).toEqual({
      order: 'A-1',
      no: '单号 SF123',
    });
  });

  it('masks phones as 138****1234 and knows a mainland mobile', () => {
    expect(maskPhone('13812341234')).toBe('138****1234');
    expect(maskPhone('+86 138 1234 1234')).toBe('138****1234');
    expect(maskPhone('138****1234')).toBe('138****1234');
    expect(mainlandMobile('+86 138-1234-1234')).toBe('13812341234');
    expect(mainlandMobile('+44 20 7946 0000')).toBeNull();
  });

  it('holds 22:00 to 08:00 in the channel time zone until 08:00', () => {
    // 23:00 in Shanghai is 15:00 UTC.
    expect(quietUntil(new Date('2030-01-01T15:00:00Z'), 'Asia/Shanghai')).toEqual(
      new Date('2030-01-02T00:00:00Z'),
    );
    // 03:00 in Shanghai: 08:00 of the same day.
    expect(quietUntil(new Date('2030-01-01T19:00:00Z'), 'Asia/Shanghai')).toEqual(
      new Date('2030-01-02T00:00:00Z'),
    );
    expect(quietUntil(new Date('2030-01-01T02:00:00Z'), 'Asia/Shanghai')).toBeNull();
    // 21:59 in Shanghai.
    expect(quietUntil(new Date('2030-01-01T13:59:00Z'), 'Asia/Shanghai')).toBeNull();
    // A zone with summer time: 23:30 in New York on the night clocks go forward.
    expect(quietUntil(new Date('2030-03-10T04:30:00Z'), 'America/New_York')).toEqual(
      new Date('2030-03-10T12:00:00Z'),
    );
    expect(localTime(new Date('2030-01-01T15:00:00Z'), 'Asia/Shanghai')).toBe('2030-01-01 23:00');
  });

  it("keeps WeChat's limits: thing cut to 20, character_string and phrase refused", () => {
    const long = '一二三四五六七八九十一二三四五六七八九十一二';
    expect([...wechatData({ thing2: long }).thing2.value]).toHaveLength(20);
    expect(wechatData({ thing2: '短' }).thing2.value).toBe('短');
    expect(() => wechatData({ character_string1: 'X'.repeat(33) })).toThrow(WechatValueError);
    expect(wechatData({ character_string1: 'X'.repeat(32) }).character_string1.value).toHaveLength(32);
    expect(() => wechatData({ phrase3: '已经发货了啊' })).toThrow(WechatValueError);
    expect(wechatData({ phrase3: '已发货' }).phrase3.value).toBe('已发货');
    expect(() => wechatData({ time4: 'tonight' })).toThrow(WechatValueError);
  });
});
