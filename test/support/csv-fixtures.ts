import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** The Douyin export's header (as in test/fixtures/channels/douyin-export.csv) and a few of its other columns. */
export const DOUYIN_HEADER = [
  '主订单编号',
  '子订单编号',
  '选购商品',
  '商品规格',
  '商品数量',
  '商品ID',
  '商家编码',
  '商品单价',
  '订单应付金额',
  '运费',
  '收件人',
  '收件人手机号',
  '省',
  '市',
  '区',
  '街道',
  '详细地址',
  '订单提交时间',
  '支付完成时间',
  '订单状态',
];

/** Columns a real export also carries (50-odd in all); the hub ignores them. */
const EXTRA = ['买家留言', '商家备注', '达人昵称', '售后状态', '流量来源'];

export interface DouyinExportOptions {
  orders: number;
  linesPerOrder?: number;
  /** Merchant codes the lines cycle through. */
  productCodes: string[];
  /** Every nth line leaves 商家编码 empty and sends this 商品ID instead (to go through the SKU map). */
  unmappedEvery?: { n: number; skuId: string };
  /** The first main order number; each order takes the next (kept as a decimal string: beyond 2^53). */
  firstOrderId?: bigint;
  status?: string;
}

/** Columns in a shuffled order with extra columns, as exports change theirs: mapping goes by header. */
export function douyinHeader(): string[] {
  const header = [...DOUYIN_HEADER, ...EXTRA];
  return [...header.slice(10), ...header.slice(0, 10).reverse()];
}

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The rows of a Douyin export, one string per line (with its line break), header first. */
export function* douyinExportLines(options: DouyinExportOptions): Generator<string> {
  const header = douyinHeader();
  yield `${header.map(csvCell).join(',')}\n`;
  const perOrder = options.linesPerOrder ?? 2;
  const first = options.firstOrderId ?? 6925000000100000000n;
  let lineNo = 0;
  const base = Date.UTC(2026, 0, 5, 12, 0, 0);
  for (let o = 0; o < options.orders; o++) {
    const orderId = String(first + BigInt(o) * 100n);
    const placed = new Date(base + o * 1000 + 8 * 3600_000).toISOString().replace('T', ' ').slice(0, 19);
    const paid = new Date(base + o * 1000 + 8 * 3600_000 + 20_000)
      .toISOString()
      .replace('T', ' ')
      .slice(0, 19);
    const lines = [];
    for (let l = 0; l < perOrder; l++, lineNo++) {
      const unmapped = options.unmappedEvery && lineNo % options.unmappedEvery.n === 0;
      const code = options.productCodes[lineNo % options.productCodes.length];
      lines.push({
        subId: String(first + BigInt(o) * 100n + BigInt(l + 1)),
        code: unmapped ? '' : code,
        skuId: unmapped ? options.unmappedEvery!.skuId : String(1739000000000 + (lineNo % 97)),
        quantity: 1 + (lineNo % 3),
        price: `${10 + (lineNo % 50)}.${String(lineNo % 100).padStart(2, '0')}`,
      });
    }
    const total = lines
      .reduce((sum, l) => sum + l.quantity * Math.round(Number(l.price) * 100), 0)
      .toString()
      .padStart(3, '0');
    const totalText = `${total.slice(0, -2)}.${total.slice(-2)}`;
    for (const l of lines) {
      const record: Record<string, string> = {
        主订单编号: `\t${orderId}`,
        子订单编号: `\t${l.subId}`,
        选购商品: `商品 ${l.code || l.skuId}, 标准装`,
        商品规格: '标准',
        商品数量: String(l.quantity),
        商品ID: `\t${l.skuId}`,
        商家编码: l.code,
        商品单价: l.price,
        订单应付金额: totalText,
        运费: '0.00',
        收件人: `买家${o % 1000}`,
        收件人手机号: `133****${String(o % 10000).padStart(4, '0')}`,
        省: '浙江省',
        市: '杭州市',
        区: '西湖区',
        街道: '文新街道',
        详细地址: `文一西路 ${o % 500} 号`,
        订单提交时间: placed,
        支付完成时间: paid,
        订单状态: options.status ?? '待发货',
        买家留言: o % 7 === 0 ? '请尽快发货，谢谢 "急"' : '',
      };
      yield `${header.map((h) => csvCell(record[h] ?? '')).join(',')}\n`;
    }
  }
}

/** Writes a Douyin export to `path`, streaming; returns the number of data rows. */
export async function writeDouyinExport(path: string, options: DouyinExportOptions): Promise<number> {
  const out = createWriteStream(path);
  let rows = -1;
  for (const line of douyinExportLines(options)) {
    rows++;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return rows;
}
