/**
 * The grammar of what a build names: a git repository URL, a ref, an output path inside the
 * checkout and an artifact version. Every one reaches git, the file system or a shell environment
 * on the build machine, so each is refused at the API (and again by the agent) unless it is plain.
 */
import { z } from 'zod';

/** Largest build command, bytes of UTF-8 (it runs as `/bin/sh -c`). */
export const MAX_BUILD_COMMAND_BYTES = 64 * 1024;

const CONTROL_RE = /[\u0000-\u001f\u007f\s]/;

/** Why `url` is not a git URL a build may fetch, or undefined. */
export function gitUrlProblem(url: string): string | undefined {
  if (url.length === 0 || url.length > 2048) return 'must be 1-2048 characters';
  if (CONTROL_RE.test(url)) return 'may not contain spaces or control characters';
  // A leading "-" would reach git as an option (CVE-2017-1000117 and kin).
  if (url.startsWith('-')) return 'may not start with "-"';
  if (/^(https?|ssh|git|file):\/\/[^/]*\/?/.test(url)) {
    if (url.startsWith('file://') && !url.startsWith('file:///')) return 'a file URL must be absolute (file:///path)';
    return undefined;
  }
  // scp-like: user@host:path
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^:]/.test(url)) return undefined;
  return 'must be an https://, http://, ssh://, git:// or file:/// URL, or user@host:path';
}

/** Why `ref` is not a ref a build may check out (a branch, a tag, a commit), or undefined. */
export function gitRefProblem(ref: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/+-]{0,199}$/.test(ref)) return 'must be a branch, tag or commit: letters, digits and . _ / + -, starting with a letter or digit, at most 200';
  if (ref.includes('..') || ref.includes('//') || ref.endsWith('/') || ref.endsWith('.') || ref.endsWith('.lock') || ref.includes('/.')) {
    return 'is not a valid git ref name (no "..", "//", "/." and no trailing "/", "." or ".lock")';
  }
  return undefined;
}

/** Why `path` is not a relative path inside the checkout, or undefined. */
export function outputPathProblem(path: string): string | undefined {
  if (!/^[A-Za-z0-9._/+@-]{1,1024}$/.test(path)) return 'must be a relative path of letters, digits and . _ / + @ -';
  if (path.startsWith('/')) return 'must be relative to the checkout';
  if (path.split('/').some((seg) => seg === '..')) return 'may not leave the checkout ("..")';
  return undefined;
}

const refined = (problem: (s: string) => string | undefined) =>
  z.string().superRefine((s, ctx) => {
    const p = problem(s);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  });

export const GitUrl = refined(gitUrlProblem);
export const GitRef = refined(gitRefProblem);
export const OutputPath = refined(outputPathProblem);

/** The build command: shell text, no NUL, bounded. */
export const BuildCommand = z
  .string()
  .min(1)
  .refine((s) => Buffer.byteLength(s) <= MAX_BUILD_COMMAND_BYTES, `must be at most ${MAX_BUILD_COMMAND_BYTES} bytes`)
  .refine((s) => !s.includes('\u0000'), 'may not contain the NUL character');

/**
 * The version a build without one of its own is stored as: the ref (made safe) and the commit's
 * first 12 hex digits, e.g. `main-1a2b3c4d5e6f`; just the 12 digits when the ref is the commit.
 */
export function derivedVersion(ref: string, commit: string): string {
  const short = commit.slice(0, 12).toLowerCase();
  if (/^[0-9a-f]{7,40}$/i.test(ref) && commit.toLowerCase().startsWith(ref.toLowerCase())) return short;
  const plain = ref.replace(/^refs\/(heads|tags)\//, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 50);
  return plain ? `${plain}-${short}` : short;
}
