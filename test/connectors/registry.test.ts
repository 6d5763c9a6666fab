import { describe, expect, it } from 'vitest';
import { connectorFor, connectors } from '../../connectors/index.js';
import { Platform } from '../../common/enums.js';

describe('connector registry', () => {
  it.each(Object.values(Platform))('%s has a connector', (platform) => {
    const connector = connectorFor(platform);
    expect(connector.platform).toBe(platform);
    expect(typeof connector.toOrder).toBe('function');
    expect(typeof connector.pull.request).toBe('function');
    expect(typeof connector.pull.parse).toBe('function');
  });

  it('lists exactly one connector per platform', () => {
    expect(connectors.map((connector) => connector.platform).sort()).toEqual(Object.values(Platform).sort());
  });

  it('says so clearly when a platform has no connector', () => {
    expect(() => connectorFor('MARS' as Platform)).toThrow('No connector for platform MARS.');
  });
});
