import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseSecretKey, SecretBox } from '../services/secret-box.js';
import { ConfigError, type HubConfig } from './config.js';
import type { Logger } from './logger.js';

export const SECRET_KEY_FILE = 'secret.key';

/**
 * The key that seals platform credentials: HUB_SECRET_KEY when set; with the embedded database and no key,
 * one generated once into the data folder (mode 0600) beside the database it protects. With an external
 * database and no key there is none (each process would make its own): credentials cannot be set then, and
 * the hub says so when someone tries.
 */
export async function secretBoxFor(config: HubConfig, logger: Logger): Promise<SecretBox | null> {
  const previous = config.previousSecretKey ? [config.previousSecretKey] : [];
  if (config.secretKey) return new SecretBox(config.secretKey, previous);
  if (config.databaseUrl) return null;
  const file = path.resolve(config.dataDir, SECRET_KEY_FILE);
  await mkdir(config.dataDir, { recursive: true });
  try {
    await writeFile(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    logger.info({ file }, 'a key to seal platform credentials was generated (keep it with the data folder)');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const { mode } = await stat(file);
    if (mode & 0o077) logger.warn({ file }, 'the credentials key file can be read by others: chmod 600 it');
  }
  const key = parseSecretKey(await readFile(file, 'utf8'));
  if (!key)
    throw new ConfigError(`${file} does not hold a key (64 hex digits); remove it or set HUB_SECRET_KEY.`);
  return new SecretBox(key, previous);
}
