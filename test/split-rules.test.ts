import { describe, expect, it } from 'vitest';
import { OrderStatus } from '../common/enums.js';
import { childExternalId, planSplit, type SplitRule } from '../services/splitting.js';

describe('split rules', () => {
  const coldChainRemote: SplitRule = {
    name: 'cold-chain-remote',
    condition: { remote: true },
    grouping: {
      by: 'coldChain',
      groups: [
        { label: 'ambient', coldChain: false },
        { label: 'chilled', coldChain: true },
      ],
    },
  };
  const order = {
    id: 'o1',
    externalId: 'T-1',
    channelCode: 'taobao-main',
    status: OrderStatus.PAID,
    remote: true,
  };
  const lines = [
    { id: 'l1', coldChain: true, lineTotal: '10.00' },
    { id: 'l2', coldChain: false, lineTotal: '5.00' },
    { id: 'l3', coldChain: true, lineTotal: '1.00' },
  ];

  it('groups the lines of a remote order with cold-chain and ambient lines into the rule groups', () => {
    expect(planSplit([coldChainRemote], order, lines)).toEqual({
      rule: 'cold-chain-remote',
      groups: [
        { label: 'ambient', lineIds: ['l2'] },
        { label: 'chilled', lineIds: ['l1', 'l3'] },
      ],
    });
  });

  it('does not split a non-remote order, or one whose lines all fall into one group', () => {
    expect(planSplit([coldChainRemote], { ...order, remote: false }, lines)).toBeNull();
    expect(planSplit([coldChainRemote], order, [lines[0], lines[2]])).toBeNull();
    expect(planSplit([], order, lines)).toBeNull();
  });

  it('takes the first rule that applies, and honours a channel condition', () => {
    const webOnly: SplitRule = {
      ...coldChainRemote,
      name: 'web-only',
      condition: { channels: ['web'] },
      grouping: {
        by: 'coldChain',
        groups: [
          { label: 'cold', coldChain: true },
          { label: 'dry', coldChain: false },
        ],
      },
    };
    expect(planSplit([webOnly, coldChainRemote], order, lines)?.rule).toBe('cold-chain-remote');
    expect(planSplit([webOnly, coldChainRemote], { ...order, channelCode: 'web' }, lines)?.rule).toBe(
      'web-only',
    );
  });

  it('derives sub-order ids from the parent id, within the 128 characters of the column', () => {
    expect(childExternalId('3487216655190412345', 'chilled')).toBe('3487216655190412345#chilled');
    const long = 'x'.repeat(128);
    const a = childExternalId(long, 'chilled');
    const b = childExternalId(`${'x'.repeat(127)}y`, 'chilled');
    expect(a).toHaveLength(128);
    expect(a.endsWith('#chilled')).toBe(true);
    expect(a).not.toBe(b);
  });
});
