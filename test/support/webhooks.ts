import { readFileSync } from 'node:fs';
import { HUB_SIGNATURE, SHOPIFY_SIGNATURE, signatureHeader } from '../../server/webhook-signature.js';

/** A sample payload from test/fixtures/channels, freshly parsed so each test can change its copy. */
export function sample<T = any>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/channels/${name}.json`, import.meta.url), 'utf8')) as T;
}

/** POSTs a body (bytes as given, a string as UTF-8, anything else as JSON) to the hub's webhook door, signed over its bytes the way the channel's platform is. */
export async function deliver(
  baseUrl: string,
  channelCode: string,
  body: unknown,
  options: { secret?: string | null; shopify?: boolean; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const raw = Buffer.isBuffer(body)
    ? body
    : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...options.headers,
    ...(options.secret &&
      signatureHeader(options.shopify ? SHOPIFY_SIGNATURE : HUB_SIGNATURE, options.secret, raw)),
  };
  const response = await fetch(`${baseUrl}/webhooks/${channelCode}`, {
    method: 'POST',
    headers,
    body: new Uint8Array(raw),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body: parsed, headers: response.headers };
}
