import type { MikroORM } from '@mikro-orm/postgresql';
import type { OrderStatus } from '../../common/enums.js';
import type { Channel } from '../../entities/index.js';

export interface Sale {
  channel: Channel;
  externalId: string;
  status: OrderStatus;
  placedAt: string;
  currency?: string;
  lines: [productCode: string, quantity: number, unitPrice: string][];
  parentId?: string;
  times?: { paid?: string; packed?: string; shipped?: string; delivered?: string };
}

/** One order and its lines, written in two statements as the hub's own ingestion writes them. */
export async function insertSale(orm: MikroORM, sale: Sale): Promise<string> {
  const em = orm.em.fork();
  const total = sale.lines.reduce((sum, [, q, price]) => sum + q * Math.round(Number(price) * 100), 0);
  const [row] = await em.execute<{ id: string }[]>(
    `insert into "order" (id, channel_id, external_id, status, customer_name, ship_line1, total_amount, currency_code,
       placed_at, paid_at, packed_at, shipped_at, delivered_at, parent_id, origin)
     values (gen_random_uuid(), ?, ?, ?::order_status, 'Buyer', '1 Road', ?, ?, ?, ?, ?, ?, ?, ?, 'API')
     returning id`,
    [
      sale.channel.id,
      sale.externalId,
      sale.status,
      (total / 100).toFixed(2),
      sale.currency ?? 'CNY',
      sale.placedAt,
      sale.times?.paid ?? null,
      sale.times?.packed ?? null,
      sale.times?.shipped ?? null,
      sale.times?.delivered ?? null,
      sale.parentId ?? null,
    ],
  );
  await em.execute(
    `insert into order_line (id, order_id, line_no, product_code, quantity, unit_price, line_total)
     values ${sale.lines.map(() => '(gen_random_uuid(), ?, ?, ?, ?, ?, ?)').join(', ')}`,
    sale.lines.flatMap(([code, q, price], i) => [
      row.id,
      i + 1,
      code,
      q,
      price,
      (q * Number(price)).toFixed(2),
    ]),
  );
  return row.id;
}
