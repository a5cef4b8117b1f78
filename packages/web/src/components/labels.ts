/** Labels edited as text, one `key=value` per line: quick to type, and easy to paste between nodes. */

/** `{team: 'web'}` → `team=web`. */
export function labelsToText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

/** Parse `key=value` lines (blank lines ignored); a line without `=` is a key with an empty value. */
export function textToLabels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of (text ?? '').split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const i = line.indexOf('=');
    if (i < 0) out[line] = '';
    else out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}
