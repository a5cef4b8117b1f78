/**
 * The upload: the packaged build PUT to the control center's `/api/v1/builds/{id}/artifact` with
 * the machine's own credential (the one its session uses, pinned certificate included). A refusal
 * (4xx) is final and carries the server's reason; a network error or a 5xx is temporary, so the
 * controller tries again with backoff — the control center may be restarting.
 */
import { createReadStream, statSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import { fingerprintOf } from '../session.ts';
import type { Credential } from '../storage.ts';

export interface UploadResult {
  version: string;
  sha256: string;
  size: number;
}

/** Why an upload did not land; `final` when trying again cannot help. */
export class UploadError extends Error {
  readonly final: boolean;
  constructor(message: string, final: boolean) {
    super(message);
    this.final = final;
  }
}

function tlsOf(cred: Credential): RequestOptions {
  const out: RequestOptions = {};
  if (cred.caPem) out.ca = cred.caPem;
  if (cred.fingerprint) {
    const want = cred.fingerprint.replaceAll(':', '').toLowerCase();
    out.checkServerIdentity = (_host: string, cert: PeerCertificate) =>
      fingerprintOf(cert.raw) === want ? undefined : new Error(`the control center's certificate ${fingerprintOf(cert.raw)} is not the pinned ${want}`);
  }
  return out;
}

async function bodyOf(res: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of res) text += String(chunk);
  return text;
}

/** PUT `file` as build `buildId`'s artifact; resolves with what the repository stored. */
export function uploadArtifact(cred: Credential, buildId: number, file: string, meta: { sha256: string; commit: string }, signal: AbortSignal): Promise<UploadResult> {
  const url = new URL(`/api/v1/builds/${buildId}/artifact`, cred.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'PUT',
      signal,
      headers: {
        authorization: `Bearer ${cred.token}`,
        'content-type': 'application/gzip',
        'content-length': String(statSync(file).size),
        'x-canopy-sha256': meta.sha256,
        'x-canopy-commit': meta.commit,
      },
      ...(url.protocol === 'https:' ? tlsOf(cred) : {}),
    });
    req.once('error', (err) => reject(new UploadError(`upload failed: ${err.message}`, false)));
    req.once('response', (res) => {
      bodyOf(res).then((text) => {
        const status = res.statusCode ?? 0;
        let body: Record<string, unknown> = {};
        try {
          body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          // Not JSON: keep the status alone.
        }
        if (status >= 200 && status < 300) return resolve(body as unknown as UploadResult);
        const why = typeof body['detail'] === 'string' ? body['detail'] : `HTTP ${status}`;
        reject(new UploadError(`the control center refused the artifact: ${why}`, status >= 400 && status < 500 && status !== 408 && status !== 429));
      }, (err: Error) => reject(new UploadError(`upload failed: ${err.message}`, false)));
    });
    const src = createReadStream(file);
    src.once('error', (err) => req.destroy(err));
    src.pipe(req);
  });
}
