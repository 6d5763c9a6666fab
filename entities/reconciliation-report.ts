import {
  BigIntType,
  Collection,
  Entity,
  ManyToOne,
  OneToMany,
  PrimaryKey,
  Property,
  type Opt,
} from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

@Entity({ tableName: 'reconciliation_report' })
export class ReconciliationReport {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id: Opt<string> = randomUUID();

  @Property({ type: 'double' })
  tolerancePercent!: number;

  @Property({ type: 'integer' })
  mismatches!: number;

  @OneToMany({ entity: () => ReconciliationLine, mappedBy: 'report', orderBy: { lineNo: 'asc' } })
  lines = new Collection<ReconciliationLine>(this);

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Opt<Date> = new Date();
}

@Entity({ tableName: 'reconciliation_line' })
export class ReconciliationLine {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: string;

  @ManyToOne({ entity: () => ReconciliationReport, index: true, deleteRule: 'cascade' })
  report!: ReconciliationReport;

  @Property({ type: 'integer' })
  lineNo!: number;

  @Property({ type: 'string', length: 128 })
  productCode!: string;

  @Property({ type: 'integer' })
  systemOnHand!: number;

  @Property({ type: 'integer' })
  physicalCount!: number;

  @Property({ type: 'double' })
  differencePercent!: number;

  @Property({ type: 'boolean' })
  mismatch!: boolean;
}
