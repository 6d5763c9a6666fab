import { Field, Int, ObjectType } from 'type-graphql';
import { ConnectorHealth } from '../common/enums.js';

@ObjectType('PollReport', { description: "One pull of a channel's orders from its platform's order API." })
export class PollReportType {
  @Field(() => String) channelCode!: string;
  @Field(() => Int, { description: 'Pages fetched, the last (possibly empty) one included.' }) pages!: number;
  @Field(() => Int, { description: 'Order payloads received.' }) orders!: number;
  @Field(() => Int, { description: 'Orders new to the hub; the rest were updates or duplicates.' })
  created!: number;
  @Field(() => Int, {
    description: 'Payloads that could not be mapped: FAILED in the ingest log, for replay.',
  })
  failed!: number;
  @Field(() => String, { nullable: true, description: 'The cursor the next poll asks from.' })
  cursor!: string | null;
  @Field(() => Int, {
    nullable: true,
    description:
      "After-sale records received (failures counted in `failed`); null where the hub does not pull the platform's refund list.",
  })
  refunds!: number | null;
  @Field(() => ConnectorHealth) health!: ConnectorHealth;
  @Field(() => String, {
    nullable: true,
    description:
      'Why the poll stopped early; the pages before it were stored and the cursor stands after them.',
  })
  error!: string | null;
}
