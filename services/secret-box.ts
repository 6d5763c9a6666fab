import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * What the stock sync and the admin API need of it: sealing on write, opening at push time. `aad` binds a
 * value to where it is stored (credentialAad): a sealed value copied to another row or field does not open.
 */
export interface Sealer {
  seal(plain: string, aad: string): string;
  open(sealed: string, aad: string): string;
}

/** What a channel's sealed credential is bound to: its channel and its field. */
export function credentialAad(channelId: string, field: 'appSecret' | 'accessToken'): string {
  return `${channelId}:${field}`;
}

/** A sealed value that cannot be opened with this key: sealed with another key, for another place, or altered. */
export class SealedWithAnotherKeyError extends Error {
  constructor() {
    super(
      'A sealed credential cannot be opened with this HUB_SECRET_KEY (sealed with another key, for another channel or field, or altered).',
    );
    this.name = 'SealedWithAnotherKeyError';
  }
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SECRET_KEY_BYTES = 32;

/**
 * Platform credentials at rest: AES-256-GCM with the hub's key, a fresh IV per value, so the database (and
 * its backups) hold nothing usable without HUB_SECRET_KEY, and a value altered in the database, or moved to
 * another row or field, fails to open instead of sending garbage (or another channel's secret) to a platform.
 * Format: `v1:` + base64(iv | tag | ciphertext). Values sealed with a previous key still open while that key
 * is given (HUB_SECRET_KEY_PREVIOUS): a key can be rotated, and each value is sealed with the new one when it
 * is set again.
 */
export class SecretBox implements Sealer {
  private readonly keys: Buffer[];

  constructor(key: Buffer, previousKeys: readonly Buffer[] = []) {
    for (const k of [key, ...previousKeys]) {
      if (k.length !== SECRET_KEY_BYTES) throw new Error(`a secret key has ${SECRET_KEY_BYTES} bytes`);
    }
    this.keys = [key, ...previousKeys];
  }

  seal(plain: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0], iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  open(sealed: string, aad: string): string {
    const [version, packed] = sealed.split(':', 2);
    if (version !== VERSION || packed === undefined) throw new SealedWithAnotherKeyError();
    const raw = Buffer.from(packed, 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SealedWithAnotherKeyError();
    for (const key of this.keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(aad, 'utf8'));
        decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        return Buffer.concat([
          decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        // not this key: the next one, if any
      }
    }
    throw new SealedWithAnotherKeyError();
  }
}

/** A key as HUB_SECRET_KEY gives it: 64 hex digits or the base64 of 32 bytes; null when it is neither. */
export function parseSecretKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(trimmed)) {
    const key = Buffer.from(trimmed, 'base64');
    if (key.length === SECRET_KEY_BYTES) return key;
  }
  return null;
}
