/**
 * China's provincial-level regions and the names addresses use for them, in one
 * place: the remote-province list (REMOTE_PROVINCES) and every stored address are
 * matched through this table. Platforms write 新疆, 新疆维吾尔自治区, Xinjiang or
 * "Xinjiang Uygur Autonomous Region" for the same region, so a name matches when it
 * starts with one of the region's names (at a word boundary for Latin letters),
 * whatever suffix follows.
 */

/** Canonical (English) name -> the names it is written with; the canonical one is matched too. */
const REGIONS: Record<string, readonly string[]> = {
  Beijing: ['北京'],
  Tianjin: ['天津'],
  Hebei: ['河北'],
  Shanxi: ['山西'],
  'Inner Mongolia': ['内蒙古', '內蒙古', 'Nei Mongol', 'Nei Menggu', 'Neimenggu', 'Innermongolia'],
  Liaoning: ['辽宁', '遼寧'],
  Jilin: ['吉林'],
  Heilongjiang: ['黑龙江', '黑龍江'],
  Shanghai: ['上海'],
  Jiangsu: ['江苏', '江蘇'],
  Zhejiang: ['浙江'],
  Anhui: ['安徽'],
  Fujian: ['福建'],
  Jiangxi: ['江西'],
  Shandong: ['山东', '山東'],
  Henan: ['河南'],
  Hubei: ['湖北'],
  Hunan: ['湖南'],
  Guangdong: ['广东', '廣東'],
  Guangxi: ['广西', '廣西'],
  Hainan: ['海南'],
  Chongqing: ['重庆', '重慶'],
  Sichuan: ['四川'],
  Guizhou: ['贵州', '貴州'],
  Yunnan: ['云南', '雲南'],
  Tibet: ['西藏', 'Xizang'],
  Shaanxi: ['陕西', '陝西'],
  Gansu: ['甘肃', '甘肅'],
  Qinghai: ['青海'],
  Ningxia: ['宁夏', '寧夏'],
  Xinjiang: ['新疆'],
  'Hong Kong': ['香港', 'Hongkong'],
  Macau: ['澳门', '澳門', 'Macao'],
  Taiwan: ['台湾', '臺灣', '台灣'],
};

/** The far regions of the issue: where cold-chain goods travel long enough to need their own parcel. */
export const DEFAULT_REMOTE_PROVINCES: readonly string[] = [
  'Xinjiang',
  'Tibet',
  'Qinghai',
  'Inner Mongolia',
  'Gansu',
  'Ningxia',
  'Hainan',
];

function normalise(name: string): string {
  return name.normalize('NFKC').trim().toLowerCase().replace(/\s+/g, ' ');
}

/** Every written name, longest first so a longer name wins over a shorter one it starts with. */
const NAMES: readonly { name: string; region: string; latin: boolean }[] = Object.entries(REGIONS)
  .flatMap(([region, names]) =>
    [region, ...names].map((n) => ({ name: normalise(n), region, latin: /^[a-z ]+$/.test(normalise(n)) })),
  )
  .sort((a, b) => b.name.length - a.name.length);

/** The canonical name of the region a province field names, or null when it names none. */
export function regionOf(province: string | null | undefined): string | null {
  if (!province) return null;
  const text = normalise(province);
  for (const { name, region, latin } of NAMES) {
    if (!text.startsWith(name)) continue;
    // "Shanxi" must not match a longer Latin word; Chinese suffixes (省, 自治区) follow directly.
    if (latin && /[a-z]/.test(text.charAt(name.length))) continue;
    return region;
  }
  return null;
}

/** Whether an address in `province` ships to one of the remote regions (canonical names). */
export function isRemoteProvince(
  province: string | null | undefined,
  remote: readonly string[] = DEFAULT_REMOTE_PROVINCES,
): boolean {
  const region = regionOf(province);
  return region !== null && remote.includes(region);
}

/**
 * Reads a comma-separated list of regions, in any of their names, into canonical
 * names; `none` is the empty list. Throws naming an entry that is no region.
 */
export function parseProvinceList(value: string): string[] {
  if (normalise(value) === 'none') return [];
  const regions = new Set<string>();
  for (const entry of value.split(/[,，]/)) {
    if (!entry.trim()) continue;
    const region = regionOf(entry);
    if (!region) throw new Error(`"${entry.trim()}" is not a province of China`);
    regions.add(region);
  }
  return [...regions];
}
