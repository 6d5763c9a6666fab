import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../server/config.js';
import {
  DEFAULT_REMOTE_PROVINCES,
  isRemoteProvince,
  parseProvinceList,
  regionOf,
} from '../services/provinces.js';

describe('remote provinces', () => {
  it.each([
    ['新疆维吾尔自治区', 'Xinjiang'],
    ['新疆', 'Xinjiang'],
    ['Xinjiang', 'Xinjiang'],
    ['Xinjiang Uygur Autonomous Region', 'Xinjiang'],
    ['  xinjiang  uyghur ', 'Xinjiang'],
    ['西藏自治区', 'Tibet'],
    ['Tibet', 'Tibet'],
    ['Xizang Autonomous Region', 'Tibet'],
    ['青海省', 'Qinghai'],
    ['Qinghai Province', 'Qinghai'],
    ['内蒙古自治区', 'Inner Mongolia'],
    ['內蒙古', 'Inner Mongolia'],
    ['Inner Mongolia', 'Inner Mongolia'],
    ['Nei Mongol', 'Inner Mongolia'],
    ['甘肃省', 'Gansu'],
    ['GANSU', 'Gansu'],
    ['宁夏回族自治区', 'Ningxia'],
    ['Ningxia Hui Autonomous Region', 'Ningxia'],
    ['海南省', 'Hainan'],
    ['Hainan', 'Hainan'],
  ])('%s is the remote region %s', (name, region) => {
    expect(regionOf(name)).toBe(region);
    expect(isRemoteProvince(name)).toBe(true);
  });

  it.each([['浙江省'], ['北京'], ['Shanxi'], ['陕西省'], ['Henan'], ['广东省'], ['Shanghai']])(
    '%s is a region, but not a remote one by default',
    (name) => {
      expect(regionOf(name)).not.toBeNull();
      expect(isRemoteProvince(name)).toBe(false);
    },
  );

  it('tells Shanxi from Shaanxi and matches Latin names at word boundaries only', () => {
    expect(regionOf('Shanxi Province')).toBe('Shanxi');
    expect(regionOf('Shaanxi')).toBe('Shaanxi');
    expect(regionOf('Hainanese')).toBeNull();
    expect(regionOf('California')).toBeNull();
    expect(regionOf('')).toBeNull();
    expect(regionOf(null)).toBeNull();
    expect(isRemoteProvince(null)).toBe(false);
  });

  it('reads REMOTE_PROVINCES in any of the names, with the issue list as default and "none" as no region', () => {
    const base = { DATABASE_URL: 'postgres://x@127.0.0.1/db' };
    expect(loadConfig(base).remoteProvinces).toEqual(DEFAULT_REMOTE_PROVINCES);
    expect(
      loadConfig({ ...base, REMOTE_PROVINCES: '新疆维吾尔自治区, Tibet，云南' }).remoteProvinces,
    ).toEqual(['Xinjiang', 'Tibet', 'Yunnan']);
    expect(loadConfig({ ...base, REMOTE_PROVINCES: 'none' }).remoteProvinces).toEqual([]);
    expect(() => loadConfig({ ...base, REMOTE_PROVINCES: 'Xinjiang,Atlantis' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, REMOTE_PROVINCES: 'Xinjiang,Atlantis' })).toThrow(
      /REMOTE_PROVINCES: "Atlantis" is not a province of China/,
    );
    expect(isRemoteProvince('云南省', parseProvinceList('Yunnan'))).toBe(true);
    expect(isRemoteProvince('新疆', parseProvinceList('Yunnan'))).toBe(false);
  });
});
