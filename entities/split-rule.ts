import { Check, Entity, Property, Unique, type Opt } from '@mikro-orm/core';
import { BaseEntity } from './base.js';

/**
 * A rule that splits an order into sub-orders, kept as data so operators change
 * rules without a release. The shapes of `condition` and `grouping` are checked by
 * services/splitting.ts when rules are read; see the README for both.
 */
@Entity({ tableName: 'split_rule' })
@Check({
  name: 'split_rule_shape',
  expression: `jsonb_typeof("condition") = 'object' and jsonb_typeof("grouping") = 'object'`,
})
export class SplitRule extends BaseEntity {
  @Property({ type: 'string', length: 64 })
  @Unique()
  name!: string;

  @Property({ type: 'boolean', default: true })
  enabled: Opt<boolean> = true;

  /** Rules are tried by ascending priority, then name; the first that applies splits the order. */
  @Property({ type: 'integer', default: 100 })
  priority: Opt<number> = 100;

  /** When the rule applies, e.g. `{"remote": true}`; `{}` is every order. */
  @Property({ type: 'json', default: '{}' })
  condition: Opt<Record<string, unknown>> = {};

  /** How lines become sub-orders, e.g. `{"by": "coldChain", "groups": [{"label": "chilled", "coldChain": true}, ...]}`. */
  @Property({ type: 'json' })
  grouping!: Record<string, unknown>;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;
}
