/** What nginx -t or keepalived -t said about a config, readable: its own lines, monospace. */
import { Alert, Typography } from 'antd';
import { MONO } from './DiffView.tsx';

/** The program's output under a one-line summary; `type` error for a refusal. */
export function ProgramOutput({ title, output, type = 'error' }: { title: string; output: string; type?: 'error' | 'warning' | 'info' }) {
  return (
    <Alert
      type={type}
      showIcon
      title={title}
      data-testid="program-output"
      description={
        output.trim() ? (
          <pre style={{ ...MONO, padding: '8px 12px', whiteSpace: 'pre-wrap', wordBreak: 'break-word', maxHeight: 260, background: '#fff' }}>{output.trim()}</pre>
        ) : (
          <Typography.Text type="secondary">The program printed nothing.</Typography.Text>
        )
      }
    />
  );
}
