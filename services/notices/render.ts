import { NoticeStep } from '../../common/enums.js';

/**
 * What a notice says and to whom, decided when it is sent: the template's variables with their placeholders
 * filled, the contact (a masked phone is none), the masked form that logs and the API show, and the quiet hours.
 */

/** The placeholders a template's values may hold, each `{{name}}`. */
export const PLACEHOLDERS = [
  'externalId',
  'orderId',
  'customerName',
  'carrier',
  'trackingNumber',
  'time',
  'stepName',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

const STEP_NAMES: Record<NoticeStep, string> = {
  [NoticeStep.PAID]: '已支付',
  [NoticeStep.SHIPPED]: '已发货',
  [NoticeStep.PICKED_UP]: '已揽收',
  [NoticeStep.DELIVERED]: '已签收',
};

export function stepName(step: string): string {
  return STEP_NAMES[step as NoticeStep] ?? step;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** The placeholders a value names that are not in PLACEHOLDERS. */
export function unknownPlaceholders(value: string): string[] {
  return [...value.matchAll(PLACEHOLDER)]
    .map((m) => m[1])
    .filter((name) => !(PLACEHOLDERS as readonly string[]).includes(name));
}

export function fillParams(
  params: Record<string, string>,
  values: Record<Placeholder, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(params).map(([key, text]) => [
      key,
      text.replace(PLACEHOLDER, (_m, name: string) => values[name as Placeholder] ?? ''),
    ]),
  );
}

/** `2026-11-11 20:15` in `timeZone`. */
export function localTime(at: Date, timeZone: string): string {
  const p = localParts(at, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}`;
}

function localParts(at: Date, timeZone: string) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

/** `timeZone`'s offset from UTC at `at`, in milliseconds. */
function offsetMs(at: Date, timeZone: string): number {
  const p = localParts(at, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

export const QUIET_FROM_HOUR = 22;
export const QUIET_UNTIL_HOUR = 8;

/** null when `at` is not in quiet hours (22:00–08:00 in `timeZone`); else the 08:00 that ends them. */
export function quietUntil(at: Date, timeZone: string): Date | null {
  const p = localParts(at, timeZone);
  if (p.hour >= QUIET_UNTIL_HOUR && p.hour < QUIET_FROM_HOUR) return null;
  // 08:00 of the same local day, or of the next one after 22:00.
  const dayShift = p.hour >= QUIET_FROM_HOUR ? 1 : 0;
  const wallClock = Date.UTC(p.year, p.month - 1, p.day + dayShift, QUIET_UNTIL_HOUR, 0, 0);
  // The offset at that moment (twice: a DST change may fall in between).
  let guess = wallClock - offsetMs(new Date(wallClock), timeZone);
  guess = wallClock - offsetMs(new Date(guess), timeZone);
  return new Date(guess);
}

/** A phone with stars in it (`138****1234`), or sealed by the platform (`$…$`): nobody can be reached with it. */
export function isMaskedPhone(phone: string): boolean {
  return /[*$#]/.test(phone);
}

/** A mainland mobile as SendSms takes it (11 digits), or null. */
export function mainlandMobile(phone: string): string | null {
  const digits = phone.replace(/[\s()-]/g, '');
  const match = /^(?:\+?86)?(1\d{10})$/.exec(digits);
  return match ? match[1] : null;
}

/** The first 3 and the last 4 digits, stars between: `138****1234`; what logs and the API show. */
export function maskPhone(phone: string): string {
  if (isMaskedPhone(phone)) return phone.slice(0, 32);
  const digits = phone.replace(/[^\d+]/g, '');
  const local = /^\+?86(1\d{10})$/.test(digits) ? digits.replace(/^\+?86/, '') : digits;
  if (local.length <= 7) return '*'.repeat(local.length);
  return `${local.slice(0, 3)}${'*'.repeat(local.length - 7)}${local.slice(-4)}`;
}

/** An openid shortened to its first and last 4 characters. */
export function maskOpenId(openId: string): string {
  return openId.length <= 8 ? '*'.repeat(openId.length) : `${openId.slice(0, 4)}…${openId.slice(-4)}`;
}

/** Limits of WeChat subscribe message values by key type (the key without its number: `thing2` → thing). */
const WECHAT_LIMITS: Record<string, { max: number; cut: boolean }> = {
  // A description: cut to fit, the rest still says what happened.
  thing: { max: 20, cut: true },
  // An order or tracking number cut short would be a wrong number: refused.
  character_string: { max: 32, cut: false },
  // A fixed word (a status): cut, it would say something else.
  phrase: { max: 5, cut: false },
};

export class WechatValueError extends Error {
  override name = 'WechatValueError';
}

/** The `data` of a subscribe message, each value within its type's limit: cut (thing) or refused. */
export function wechatData(params: Record<string, string>): Record<string, { value: string }> {
  return Object.fromEntries(
    Object.entries(params).map(([key, value]) => {
      const type = key.replace(/\d+$/, '');
      const limit = WECHAT_LIMITS[type];
      const chars = [...value];
      let text = value;
      if (limit && chars.length > limit.max) {
        if (!limit.cut) {
          throw new WechatValueError(
            `${key} "${value}" has ${chars.length} characters; a ${type} has at most ${limit.max}.`,
          );
        }
        text = `${chars.slice(0, limit.max - 1).join('')}…`;
      }
      if (type === 'time' && !/^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$/.test(value)) {
        throw new WechatValueError(`${key} "${value}" is not a date-time (YYYY-MM-DD HH:mm).`);
      }
      return [key, { value: text }];
    }),
  );
}
