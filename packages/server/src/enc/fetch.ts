/** Fetching the classes file the Puppet code base publishes over HTTP. */
import { CATALOG_MAX_CHARS } from './catalog.ts';

/** How long one fetch may take before it counts as failed. */
export const FETCH_TIMEOUT_MS = 15_000;
// UTF-8 spends up to 4 bytes per character; anything larger cannot pass parseCatalog anyway.
const MAX_BYTES = CATALOG_MAX_CHARS * 4;

/** The body and content type at `url`; throws an Error whose message says what went wrong. */
export async function fetchCatalogText(url: string, timeoutMs = FETCH_TIMEOUT_MS): Promise<{ text: string; contentType: string }> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow', headers: { accept: 'text/plain, application/json' } });
  } catch (err) {
    throw new Error(`cannot fetch ${url}: ${describe(err)}`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`fetching ${url} answered HTTP ${res.status} ${res.statusText}`.trim());
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > MAX_BYTES) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`${url} is ${declared} bytes; the catalog may be at most ${MAX_BYTES}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    const reader = res.body?.getReader();
    for (let r = await reader?.read(); reader && r && !r.done; r = await reader.read()) {
      size += r.value.byteLength;
      if (size > MAX_BYTES) {
        await reader.cancel().catch(() => {});
        throw new Error(`larger than ${MAX_BYTES} bytes`);
      }
      chunks.push(r.value);
    }
  } catch (err) {
    throw new Error(`reading ${url}: ${describe(err)}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new Error(`${url} is not valid UTF-8`);
  }
  return { text, contentType: res.headers.get('content-type') ?? '' };
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    return err.name === 'TimeoutError' ? 'timed out' : `${err.message}${detail}`;
  }
  return String(err);
}
