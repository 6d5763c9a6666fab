import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.js';

describe('the committed migrations', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub('migrations');
  });

  afterAll(() => hub.close());

  it('build exactly the schema the entities describe', async () => {
    const diff = await hub.orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
    expect(diff.trim(), 'run `npm run migration:create` and commit the migration').toBe('');
  });

  it('are recorded as applied, so a second run changes nothing', async () => {
    expect(await hub.orm.getMigrator().getPendingMigrations()).toEqual([]);
    expect(await hub.orm.getMigrator().up()).toEqual([]);
  });
});
