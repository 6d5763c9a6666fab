import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { ImportReportType } from '../schema/ingestion.js';
import type { RequestContext } from '../services/context.js';
import { importOrdersCsv } from '../services/csv-import.js';
import { BadUserInputError } from '../common/errors.js';
import { INGEST } from './roles.js';

/**
 * The CSV text a request may carry. The HTTP body limit (2 MB, JSON escaping included) refuses bigger requests
 * before they get here; this names the way out should that limit ever be raised.
 */
export const MAX_CSV_BYTES = 2 * 1024 * 1024;

@Resolver()
export class CsvImportResolver {
  @Authorized(INGEST)
  @Mutation(() => ImportReportType)
  importOrdersCsv(
    @Ctx() ctx: RequestContext,
    @Arg('channelCode', () => String) channelCode: string,
    @Arg('csv', () => String) csv: string,
    @Arg('historical', () => Boolean, { nullable: true, defaultValue: false }) historical: boolean | null,
  ) {
    if (Buffer.byteLength(csv) > MAX_CSV_BYTES) {
      throw new BadUserInputError(
        `The CSV is larger than ${MAX_CSV_BYTES / 1024 / 1024} MB: import it with the command line, ` +
          '`npm run import -- --channel <code> --file <path>`, which streams files of any size.',
        'csv',
      );
    }
    return importOrdersCsv(ctx, channelCode, csv, { historical: historical ?? false });
  }
}
