import { Platform } from '../common/enums.js';
import type { DemoLine } from './platforms.js';

// The simulated day, planned in full before it starts: which order arrives in which simulated minute on which
// channel, and what happens to it afterwards. Pure and seeded, so a run can be reasoned about (and tested)
// without a hub: the same settings always plan the same day.

export const MINUTES_PER_DAY = 24 * 60;

export interface DemoChannel {
  code: string;
  platform: Platform;
  name: string;
  /** Core channels keep selling a product that falls to its safety stock; the others are closed. */
  isCore: boolean;
  /** This channel's part of a normal day's orders. */
  share: number;
  /** Two or three letters for the progress lines. */
  short: string;
}

export const CHANNELS: readonly DemoChannel[] = [
  {
    code: 'demo-taobao',
    platform: Platform.TAOBAO,
    name: 'Tmall flagship',
    isCore: true,
    share: 0.24,
    short: 'tb',
  },
  { code: 'demo-jd', platform: Platform.JD, name: 'JD self-run', isCore: true, share: 0.16, short: 'jd' },
  {
    code: 'demo-pinduoduo',
    platform: Platform.PINDUODUO,
    name: 'Pinduoduo',
    isCore: false,
    share: 0.14,
    short: 'pdd',
  },
  {
    code: 'demo-douyin',
    platform: Platform.DOUYIN,
    name: 'Douyin live',
    isCore: false,
    share: 0.16,
    short: 'dy',
  },
  {
    code: 'demo-kuaishou',
    platform: Platform.KUAISHOU,
    name: 'Kuaishou',
    isCore: false,
    share: 0.1,
    short: 'ks',
  },
  {
    code: 'demo-youzan',
    platform: Platform.YOUZAN,
    name: 'Youzan mini shop',
    isCore: false,
    share: 0.06,
    short: 'yz',
  },
  {
    code: 'demo-shopify',
    platform: Platform.SHOPIFY,
    name: 'Shopify (cross-border)',
    isCore: false,
    share: 0.04,
    short: 'sp',
  },
  {
    code: 'demo-shop',
    platform: Platform.STOREFRONT,
    name: 'Own storefront',
    isCore: true,
    share: 0.1,
    short: 'web',
  },
];

export interface DemoProduct {
  productCode: string;
  name: string;
  priceFen: number;
  coldChain: boolean;
  /** How often a normal order line is this product, relative to the others. */
  weight: number;
}

export const HOT_PRODUCT = 'DEMO-MASK';

export const PRODUCTS: readonly DemoProduct[] = [
  { productCode: HOT_PRODUCT, name: '玻尿酸面膜 10 片', priceFen: 8900, coldChain: false, weight: 1 },
  { productCode: 'DEMO-MILK-1L', name: '有机纯牛奶 1L', priceFen: 1290, coldChain: false, weight: 5 },
  { productCode: 'DEMO-TEA-250G', name: '明前龙井 250g', priceFen: 9900, coldChain: false, weight: 3 },
  { productCode: 'DEMO-SNACK-MIX', name: '坚果混合装', priceFen: 1530, coldChain: false, weight: 5 },
  { productCode: 'DEMO-ICECREAM', name: '冰淇淋礼盒', priceFen: 8800, coldChain: true, weight: 2 },
  { productCode: 'DEMO-RICE-5KG', name: '五常大米 5kg', priceFen: 6990, coldChain: false, weight: 3 },
];

/** Orders per hour of the day (Asia/Shanghai), relative: a quiet night, the morning, lunch, the evening peak. */
const HOURLY = [
  1.2, 0.7, 0.4, 0.3, 0.3, 0.4, 0.8, 1.6, 2.6, 3.2, 3.4, 3.6, 4.0, 3.4, 3.0, 3.0, 3.2, 3.6, 4.4, 5.6, 6.8,
  7.4, 6.2, 3.4,
];
const HOURLY_SUM = HOURLY.reduce((a, b) => a + b, 0);

/** Something the day holds besides the curve, in simulated minutes. */
export const SCENE = {
  /** The Douyin live stream: `multiplier` times Douyin's rate, every order the hot product. */
  liveStream: { channel: 'demo-douyin', from: 20 * 60, to: 20 * 60 + 15, multiplier: 20 },
  /** A channel whose pushes stop (a broken webhook subscription, say). */
  silence: { channel: 'demo-kuaishou', from: 13 * 60, to: 16 * 60 },
  /** The warehouse receives more of the hot product. */
  restockAt: 21 * 60 + 30,
  /** The warehouse packs and scans out between these times. */
  warehouse: { from: 8 * 60, to: 22 * 60 },
} as const;

/** A planned order and its fate; every time is a simulated minute of the day. */
export interface PlannedOrder {
  seq: number;
  channel: DemoChannel;
  minute: number;
  lines: DemoLine[];
  customer: Customer;
  /** Part of the live stream's spike. */
  live: boolean;
  /** When the buyer pays; null: never (the hold runs out). Platforms that push paid orders only: `minute`. */
  paidAt: number | null;
  packedAt: number | null;
  shippedAt: number | null;
  /** The carrier's scans after the scan-out; only those within the day. */
  tracking: { status: 'PICKED_UP' | 'IN_TRANSIT' | 'OUT_FOR_DELIVERY' | 'DELIVERED'; at: number }[];
}

export interface Customer {
  name: string;
  phone: string;
  province: string;
  city: string;
  district: string;
  street: string;
}

const CUSTOMERS: readonly Customer[] = [
  {
    name: '王小明',
    phone: '13800000001',
    province: '浙江省',
    city: '杭州市',
    district: '西湖区',
    street: '文三路 100 号',
  },
  {
    name: '李雷',
    phone: '13900000002',
    province: '北京',
    city: '北京市',
    district: '朝阳区',
    street: '建国路 1 号',
  },
  {
    name: '韩梅梅',
    phone: '13700000003',
    province: '四川省',
    city: '成都市',
    district: '武侯区',
    street: '天府大道 88 号',
  },
  {
    name: '张三',
    phone: '13600000004',
    province: '广东省',
    city: '深圳市',
    district: '南山区',
    street: '科技园南区 1 栋',
  },
  {
    name: '赵敏',
    phone: '13400000005',
    province: '湖北省',
    city: '武汉市',
    district: '洪山区',
    street: '珞喻路 1037 号',
  },
  {
    name: '周杰',
    phone: '13500000006',
    province: '新疆维吾尔自治区',
    city: '乌鲁木齐市',
    district: '天山区',
    street: '解放北路 20 号',
  },
  {
    name: '陈静',
    phone: '13300000007',
    province: '上海',
    city: '上海市',
    district: '浦东新区',
    street: '世纪大道 8 号',
  },
  {
    name: '刘洋',
    phone: '13200000008',
    province: '江苏省',
    city: '南京市',
    district: '鼓楼区',
    street: '中山路 321 号',
  },
];

export interface DayPlan {
  orders: PlannedOrder[];
  /** Units of the hot product the live stream sells. */
  liveStreamUnits: number;
  /** Units of the hot product the paid orders before the live stream take. */
  hotUnitsBeforeLive: number;
}

/** mulberry32: a small seeded generator, so a day is the same every time it is planned with the same seed. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
  const weighted = <T extends { weight: number }>(items: readonly T[]) => {
    let roll = next() * items.reduce((sum, item) => sum + item.weight, 0);
    return items.find((item) => (roll -= item.weight) < 0) ?? items[items.length - 1];
  };
  return { next, int, pick, weighted };
}

/** A channel's orders in an hour of a normal day. */
export const usualOrders = (ordersPerDay: number, channel: DemoChannel, hour: number) =>
  (ordersPerDay * channel.share * HOURLY[hour]) / HOURLY_SUM;

/** What share of each platform's unpaid orders are never paid. */
function unpaidShare(channel: DemoChannel): number {
  if (!pushesUnpaid(channel.platform)) return 0;
  // The storefront's own checkout loses more buyers at the payment step than the marketplaces' apps do.
  return channel.platform === Platform.STOREFRONT ? 0.2 : 0.06;
}

/** JD and Pinduoduo push an order only once it is paid. */
export const pushesUnpaid = (platform: Platform) =>
  platform !== Platform.JD && platform !== Platform.PINDUODUO;

/** The next minute the warehouse works at `minute` or later; null when that is past the day. */
function warehouseMinute(minute: number): number | null {
  const { from, to } = SCENE.warehouse;
  if (minute < from) return from;
  return minute < to ? minute : null;
}

/** The day's orders: `ordersPerDay` on a normal day's curve, plus the live stream's spike. */
export function planDay(ordersPerDay: number, seed: number): DayPlan {
  const random = generator(seed);
  const orders: PlannedOrder[] = [];
  const owed = new Map<string, number>();
  const hot = PRODUCTS.find((p) => p.productCode === HOT_PRODUCT)!;

  for (let minute = 0; minute < MINUTES_PER_DAY; minute++) {
    for (const channel of CHANNELS) {
      const perMinute = usualOrders(ordersPerDay, channel, Math.floor(minute / 60)) / 60;
      const { liveStream, silence } = SCENE;
      const live = channel.code === liveStream.channel && minute >= liveStream.from && minute < liveStream.to;
      const silent = channel.code === silence.channel && minute >= silence.from && minute < silence.to;
      // Orders are owed at a steady fraction per minute and sent as they add up to whole ones: the counts
      // follow the curve exactly, with no luck involved.
      const due = (owed.get(channel.code) ?? 0) + perMinute * (live ? liveStream.multiplier : 1);
      const count = Math.floor(due);
      owed.set(channel.code, due - count);
      if (silent) continue;
      for (let i = 0; i < count; i++) {
        const lineCount = channel.platform === Platform.KUAISHOU || live ? 1 : random.int(1, 3);
        const lines: DemoLine[] = [];
        for (let l = 0; l < lineCount; l++) {
          const product = live ? hot : random.weighted(PRODUCTS);
          if (lines.some((line) => line.productCode === product.productCode)) continue;
          lines.push({
            productCode: product.productCode,
            name: product.name,
            quantity: live ? random.int(2, 4) : random.int(1, 2),
            unitPriceFen: product.priceFen,
          });
        }
        const paidAt = !pushesUnpaid(channel.platform)
          ? minute
          : random.next() < unpaidShare(channel)
            ? null
            : minute + random.int(1, 20);
        const packedAt = paidAt === null ? null : warehouseMinute(paidAt + random.int(20, 120));
        const shippedAt = packedAt === null ? null : warehouseMinute(packedAt + random.int(10, 60));
        const tracking: PlannedOrder['tracking'] = [];
        if (shippedAt !== null) {
          const pickedUp = shippedAt + random.int(30, 90);
          const inTransit = pickedUp + random.int(60, 180);
          const outForDelivery = inTransit + random.int(120, 300);
          const delivered = outForDelivery + random.int(30, 120);
          tracking.push(
            { status: 'PICKED_UP', at: pickedUp },
            { status: 'IN_TRANSIT', at: inTransit },
            { status: 'OUT_FOR_DELIVERY', at: outForDelivery },
            { status: 'DELIVERED', at: delivered },
          );
        }
        orders.push({
          seq: orders.length + 1,
          channel,
          minute,
          lines,
          customer: random.pick(CUSTOMERS),
          live,
          paidAt: paidAt !== null && paidAt < MINUTES_PER_DAY ? paidAt : null,
          packedAt,
          shippedAt,
          tracking: tracking.filter((scan) => scan.at < MINUTES_PER_DAY),
        });
      }
    }
  }

  const hotUnits = (order: PlannedOrder) =>
    order.lines.filter((l) => l.productCode === HOT_PRODUCT).reduce((sum, l) => sum + l.quantity, 0);
  return {
    orders,
    liveStreamUnits: orders.filter((o) => o.live).reduce((sum, o) => sum + hotUnits(o), 0),
    hotUnitsBeforeLive: orders
      .filter((o) => o.minute < SCENE.liveStream.from && o.paidAt !== null)
      .reduce((sum, o) => sum + hotUnits(o), 0),
  };
}

/** `HH:MM` of a simulated minute. */
export const clock = (minute: number) =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
