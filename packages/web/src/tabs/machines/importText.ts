/** Preparing an import body in the browser: detect CSV vs JSON, and default rows to this node. */

export type ImportFormat = 'csv' | 'json';

/** JSON when the text starts like JSON, CSV otherwise. */
export function detectFormat(text: string): ImportFormat {
  const first = text.trimStart()[0];
  return first === '[' || first === '{' ? 'json' : 'csv';
}

function defaultJson(text: string, path: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text; // the server reports the syntax error
  }
  const list = Array.isArray(body) ? body : (body as { machines?: unknown } | null)?.machines;
  if (!Array.isArray(list)) return text;
  const rows = list.map((r: unknown) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) return r;
    const nodes = (r as { nodes?: unknown }).nodes;
    return Array.isArray(nodes) && nodes.length > 0 ? r : { ...r, nodes: [path] };
  });
  return JSON.stringify(rows);
}

function defaultCsv(text: string, path: string): string {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.split(',').map((c) => c.trim().toLowerCase()) ?? [];
  // Quoted fields may hold commas or line breaks; only plain CSV is safe to extend by text.
  if (header.includes('nodes') || text.includes('"')) return text;
  return lines.map((l, i) => (l.trim() === '' ? l : i === 0 ? `${l},nodes` : `${l},${path}`)).join('\n');
}

/**
 * The body to send: with `path` added to every row that names no node, when asked. CSV is left
 * alone if it already has a `nodes` column or uses quotes.
 */
export function prepareImport(text: string, format: ImportFormat, path: string | undefined): string {
  if (!path) return text;
  return format === 'json' ? defaultJson(text, path) : defaultCsv(text, path);
}
