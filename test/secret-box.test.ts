import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { SECRET_KEY_FILE, secretBoxFor } from '../server/secret-key.js';
import {
  credentialAad,
  parseSecretKey,
  SealedWithAnotherKeyError,
  SecretBox,
} from '../services/secret-box.js';

const logger = createLogger('silent');

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));
  const here = credentialAad('3f1c0a52-0000-4000-8000-000000000001', 'appSecret');

  it('opens what it sealed, for the place it was sealed for', () => {
    const sealed = box.seal('app-secret 密钥', here);
    expect(sealed).toMatch(/^v1:/);
    expect(sealed).not.toContain('app-secret');
    expect(box.open(sealed, here)).toBe('app-secret 密钥');
  });

  it('uses a fresh IV each time: the same value seals differently', () => {
    const first = box.seal('token', here);
    const second = box.seal('token', here);
    expect(first).not.toBe(second);
    expect(box.open(first, here)).toBe('token');
    expect(box.open(second, here)).toBe('token');
  });

  it('refuses an altered value, and one sealed with another key', () => {
    const sealed = box.seal('token', here);
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1] ^= 1;
    expect(() => box.open(`v1:${raw.toString('base64')}`, here)).toThrow(SealedWithAnotherKeyError);
    expect(() => box.open('v2:' + sealed.slice(3), here)).toThrow(SealedWithAnotherKeyError);
    expect(() => box.open('v1:c2hvcnQ=', here)).toThrow(SealedWithAnotherKeyError);
    expect(() => new SecretBox(randomBytes(32)).open(sealed, here)).toThrow(SealedWithAnotherKeyError);
  });

  it("refuses a value moved to another channel's row or to another field", () => {
    const channelId = '3f1c0a52-0000-4000-8000-000000000001';
    const sealed = box.seal('app-secret', credentialAad(channelId, 'appSecret'));
    expect(() => box.open(sealed, credentialAad(channelId, 'accessToken'))).toThrow(
      SealedWithAnotherKeyError,
    );
    expect(() =>
      box.open(sealed, credentialAad('3f1c0a52-0000-4000-8000-000000000002', 'appSecret')),
    ).toThrow(SealedWithAnotherKeyError);
  });

  it('opens values of the previous key while it is given, and seals with the new one', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = new SecretBox(oldKey).seal('token', here);
    const rotated = new SecretBox(newKey, [oldKey]);
    expect(rotated.open(before, here)).toBe('token');
    const again = rotated.seal('token', here);
    expect(new SecretBox(newKey).open(again, here)).toBe('token');
    expect(() => new SecretBox(oldKey).open(again, here)).toThrow(SealedWithAnotherKeyError);
    expect(() => new SecretBox(newKey).open(before, here)).toThrow(SealedWithAnotherKeyError);
  });

  it('takes keys of 32 bytes only', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow();
    expect(() => new SecretBox(randomBytes(32), [randomBytes(16)])).toThrow();
  });
});

describe('parseSecretKey', () => {
  const key = randomBytes(32);

  it('reads 64 hex digits and the base64 of 32 bytes (URL-safe too), spaces around ignored', () => {
    expect(parseSecretKey(key.toString('hex'))).toEqual(key);
    expect(parseSecretKey(` ${key.toString('hex').toUpperCase()}\n`)).toEqual(key);
    expect(parseSecretKey(key.toString('base64'))).toEqual(key);
    expect(parseSecretKey(key.toString('base64url'))).toEqual(key);
  });

  it('refuses anything else', () => {
    for (const bad of [
      '',
      'secret',
      key.toString('hex').slice(1),
      randomBytes(31).toString('base64'),
      'z'.repeat(64),
    ]) {
      expect(parseSecretKey(bad), bad).toBeNull();
    }
  });
});

describe('the hub secret key (server/secret-key.ts)', () => {
  let dataDir: string | null = null;

  afterEach(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    dataDir = null;
  });

  it('is generated into <dataDir>/secret.key (mode 0600) with the embedded database, and reused', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'hub-secret-'));
    const config = loadConfig({ HUB_DATA_DIR: dataDir });
    const first = await secretBoxFor(config, logger);
    const file = path.join(dataDir, SECRET_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(parseSecretKey(await readFile(file, 'utf8'))).not.toBeNull();

    const second = await secretBoxFor(config, logger);
    expect(second!.open(first!.seal('kept across restarts', 'aad'), 'aad')).toBe('kept across restarts');
  });

  it('is HUB_SECRET_KEY when set, whatever the database', async () => {
    const key = randomBytes(32);
    const config = loadConfig({ HUB_SECRET_KEY: key.toString('hex'), DATABASE_URL: 'postgres://h/db' });
    const box = await secretBoxFor(config, logger);
    expect(new SecretBox(key).open(box!.seal('x', 'aad'), 'aad')).toBe('x');
  });

  it('also opens with HUB_SECRET_KEY_PREVIOUS when set (a key rotation)', async () => {
    const oldKey = randomBytes(32);
    const config = loadConfig({
      HUB_SECRET_KEY: randomBytes(32).toString('hex'),
      HUB_SECRET_KEY_PREVIOUS: oldKey.toString('hex'),
      DATABASE_URL: 'postgres://h/db',
    });
    const box = await secretBoxFor(config, logger);
    expect(box!.open(new SecretBox(oldKey).seal('x', 'aad'), 'aad')).toBe('x');
  });

  it('is none with an external database and no HUB_SECRET_KEY (each process would make its own)', async () => {
    expect(await secretBoxFor(loadConfig({ DATABASE_URL: 'postgres://h/db' }), logger)).toBeNull();
  });

  it('refuses a bad HUB_SECRET_KEY (or HUB_SECRET_KEY_PREVIOUS) without repeating it', () => {
    const bad = 'not-a-key-but-secret-looking-0123';
    for (const name of ['HUB_SECRET_KEY', 'HUB_SECRET_KEY_PREVIOUS']) {
      let error: unknown = null;
      try {
        loadConfig({ [name]: bad });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(name);
      expect((error as Error).message).not.toContain(bad);
    }
  });
});
