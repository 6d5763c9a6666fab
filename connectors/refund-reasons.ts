import { Platform, RefundReasonClass, RefundResponsible } from '../common/enums.js';

// Refund reasons → a small set of classes and who is responsible, for attribution (issue 17; the table in
// docs/after-sale.md). A platform's reason code beats its text: the code is what the buyer picked from the
// platform's list, the text is often the buyer's own words (Youzan 16 "冰淇淋化了" is a missing-goods code whose
// text reads like damage). Text is only read when there is no code the table knows. Nothing matched: OTHER.

const { QUALITY, WRONG_OR_MISSING, DAMAGED_IN_TRANSIT, NOT_AS_DESCRIBED, BUYER_REMORSE, OTHER } =
  RefundReasonClass;

export interface ReasonAttribution {
  reasonClass: RefundReasonClass;
  responsible: RefundResponsible;
}

/** Each class puts the refund on one party. */
const RESPONSIBLE: Readonly<Record<RefundReasonClass, RefundResponsible>> = {
  [QUALITY]: RefundResponsible.MERCHANT,
  [WRONG_OR_MISSING]: RefundResponsible.MERCHANT,
  [DAMAGED_IN_TRANSIT]: RefundResponsible.CARRIER,
  [NOT_AS_DESCRIBED]: RefundResponsible.MERCHANT,
  [BUYER_REMORSE]: RefundResponsible.BUYER,
  [OTHER]: RefundResponsible.UNKNOWN,
};

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

function codes(entries: [RefundReasonClass, (number | string)[]][]): ReadonlyMap<string, RefundReasonClass> {
  return new Map(entries.flatMap(([reasonClass, list]) => list.map((code) => [String(code), reasonClass])));
}

/** Reason codes per platform; a platform not here (Taobao, JD, Pinduoduo) is classified by its text. */
const CODES: Partial<Record<Platform, ReadonlyMap<string, RefundReasonClass>>> = {
  [Platform.DOUYIN]: codes([
    [QUALITY, [7]],
    [WRONG_OR_MISSING, [5, 22, 29]],
    [DAMAGED_IN_TRANSIT, [21]],
    [BUYER_REMORSE, [1]],
  ]),
  // From a third-party relay's document: not confirmed by Kuaishou.
  [Platform.KUAISHOU]: codes([
    [QUALITY, [3]],
    [WRONG_OR_MISSING, [4, 16]],
    [DAMAGED_IN_TRANSIT, [17]],
    [BUYER_REMORSE, [10, 11, ...range(19, 25)]],
  ]),
  [Platform.YOUZAN]: codes([
    [QUALITY, [11, 105]],
    [WRONG_OR_MISSING, [15, 16, 101, 102]],
    [NOT_AS_DESCRIBED, [13, 103]],
    [BUYER_REMORSE, [12, 104]],
  ]),
  // The ReturnReason enum of Shopify's returns (a refund itself carries no reason, only a note).
  [Platform.SHOPIFY]: codes([
    [QUALITY, ['DEFECTIVE']],
    [WRONG_OR_MISSING, ['WRONG_ITEM']],
    [NOT_AS_DESCRIBED, ['NOT_AS_DESCRIBED']],
    [BUYER_REMORSE, ['UNWANTED', 'SIZE_TOO_SMALL', 'SIZE_TOO_LARGE', 'STYLE', 'COLOR']],
  ]),
};

/**
 * Text keywords, first match wins. Merchant-side classes come before buyer remorse, so "7天无理由" only wins when
 * nothing names a fault; 破损 (broken in the parcel) is the carrier's.
 */
const KEYWORDS: readonly [RefundReasonClass, readonly string[]][] = [
  [QUALITY, ['质量问题', '瑕疵', '做工', '污渍', '变质', '过期', 'defective', 'faulty']],
  [WRONG_OR_MISSING, ['发错货', '发错', '错发', '少件', '漏发', '缺件', 'wrong item', 'missing item']],
  [DAMAGED_IN_TRANSIT, ['破损', '物流损坏', '压坏', '摔坏', 'damaged']],
  [NOT_AS_DESCRIBED, ['与描述不符', '描述不符', '与商品描述不符', '图片不符', 'not as described']],
  [
    BUYER_REMORSE,
    [
      '7天无理由',
      '七天无理由',
      '无理由',
      '不想要了',
      '不想要',
      '拍错',
      '多拍',
      '不喜欢',
      'wrong size',
      'too small',
      'too large',
      'changed my mind',
      'unwanted',
    ],
  ],
];

/** The class and responsible party for a refund's reason: the platform's code first, then its text, else OTHER. */
export function classifyReason(
  platform: Platform,
  code: string | null,
  text: string | null,
): ReasonAttribution {
  const byCode = code === null ? undefined : CODES[platform]?.get(code.trim());
  const reasonClass = byCode ?? (text === null ? OTHER : classifyText(text));
  return { reasonClass, responsible: RESPONSIBLE[reasonClass] };
}

/** The class a reason's text names by keyword; OTHER when none. */
export function classifyText(text: string): RefundReasonClass {
  const lower = text.toLowerCase();
  for (const [reasonClass, keywords] of KEYWORDS) {
    if (keywords.some((keyword) => lower.includes(keyword))) return reasonClass;
  }
  return OTHER;
}
