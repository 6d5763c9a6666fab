import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType('ImportRowError')
export class ImportRowErrorType {
  @Field(() => Int) row!: number;
  @Field(() => String) message!: string;
}

@ObjectType('ImportReport')
export class ImportReportType {
  @Field(() => String) channelCode!: string;
  @Field(() => Int) rows!: number;
  @Field(() => Int) created!: number;
  @Field(() => Int, { description: 'Already known (channel, externalId): not created twice.' })
  duplicates!: number;
  @Field(() => Int) failed!: number;
  @Field(() => [ImportRowErrorType]) errors!: ImportRowErrorType[];
}

@ObjectType('ReplayReport')
export class ReplayReportType {
  @Field(() => Int, { description: 'Stored payloads taken up again.' }) replayed!: number;
  @Field(() => Int) succeeded!: number;
  @Field(() => Int, { description: 'Still failing: see the ingest log for each reason.' }) failed!: number;
}
