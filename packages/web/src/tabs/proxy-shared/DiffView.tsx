/** A unified diff with added lines green, removed lines red and hunk headers blue. */
import type { CSSProperties } from 'react';
import { Typography } from 'antd';

/** Beyond this many lines the rest is summarised: a browser chokes on megabytes of divs. */
const MAX_LINES = 4000;

type Kind = 'add' | 'del' | 'hunk' | 'file' | 'note' | 'same';

const STYLE: Record<Kind, CSSProperties> = {
  add: { background: '#e6ffec', color: '#116329' },
  del: { background: '#ffebe9', color: '#82071e' },
  hunk: { background: '#ddf4ff', color: '#0550ae' },
  file: { fontWeight: 600, color: '#24292f', background: '#f6f8fa' },
  note: { color: '#8c8c8c', fontStyle: 'italic' },
  same: {},
};

function kindOf(line: string): Kind {
  if (line.startsWith('+++ ') || line.startsWith('--- ') || line.startsWith('Index: ') || line.startsWith('====')) return 'file';
  if (line.startsWith('@@')) return 'hunk';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  if (line.startsWith('\\')) return 'note';
  return 'same';
}

/** Monospace block shared by diffs, config files and program output. */
export const MONO: CSSProperties = {
  fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
  fontSize: 12,
  lineHeight: 1.5,
  margin: 0,
  padding: '8px 0',
  background: '#fafafa',
  border: '1px solid #f0f0f0',
  borderRadius: 6,
  overflow: 'auto',
  maxHeight: 520,
};

/** Render `diff`; an empty diff says so instead of showing an empty box. */
export function DiffView({ diff, empty = 'No differences.' }: { diff: string; empty?: string }) {
  if (diff.trim() === '') return <Typography.Text type="secondary">{empty}</Typography.Text>;
  const lines = diff.replace(/\n$/, '').split('\n');
  const shown = lines.slice(0, MAX_LINES);
  return (
    <pre style={MONO} data-testid="diff">
      {shown.map((line, n) => {
        const kind = kindOf(line);
        return (
          <div key={n} className={`diff-${kind}`} style={{ ...STYLE[kind], padding: '0 12px', whiteSpace: 'pre', minHeight: '1.5em' }}>
            {line}
          </div>
        );
      })}
      {lines.length > MAX_LINES && <div style={{ ...STYLE.note, padding: '4px 12px' }}>… {lines.length - MAX_LINES} more lines not shown</div>}
    </pre>
  );
}
