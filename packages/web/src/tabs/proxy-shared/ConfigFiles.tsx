/** The files of a published config, one collapsible monospace panel per file. */
import { Button, Collapse, Space, Typography } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { MONO } from './DiffView.tsx';
import type { ConfigFile } from './model.ts';

/** A generated config of ten thousand services is megabytes: show its head, offer the whole file. */
const MAX_LINES = 3000;

function download(file: ConfigFile): void {
  const url = URL.createObjectURL(new Blob([file.content], { type: 'text/plain' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = file.path.replaceAll('/', '_');
  a.click();
  URL.revokeObjectURL(url);
}

function FileBody({ file }: { file: ConfigFile }) {
  const lines = file.content.split('\n');
  const cut = lines.length > MAX_LINES;
  return (
    <>
      <pre style={{ ...MONO, padding: '8px 12px', whiteSpace: 'pre' }} data-testid={`config-file-${file.path}`}>
        {cut ? lines.slice(0, MAX_LINES).join('\n') : file.content}
      </pre>
      {cut && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          First {MAX_LINES} of {lines.length} lines shown; download the file for the rest.
        </Typography.Text>
      )}
    </>
  );
}

/** A config up to this many lines starts with every file open; a larger one with the first only. */
const OPEN_ALL_LINES = 600;

/** `files` as collapsible panels. */
export function ConfigFiles({ files }: { files: readonly ConfigFile[] }) {
  if (files.length === 0) return <Typography.Text type="secondary">The config has no files.</Typography.Text>;
  const lines = files.reduce((n, f) => n + f.content.split('\n').length, 0);
  const open = lines <= OPEN_ALL_LINES ? files.map((f) => f.path) : files.slice(0, 1).map((f) => f.path);
  return (
    <Collapse
      size="small"
      defaultActiveKey={open}
      items={files.map((f) => ({
        key: f.path,
        label: (
          <Space size={8}>
            <Typography.Text code>{f.path}</Typography.Text>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {f.content.split('\n').length - (f.content.endsWith('\n') ? 1 : 0)} lines
            </Typography.Text>
          </Space>
        ),
        extra: (
          <Button
            size="small"
            type="text"
            icon={<DownloadOutlined />}
            aria-label={`Download ${f.path}`}
            onClick={(e) => {
              e.stopPropagation();
              download(f);
            }}
          />
        ),
        children: <FileBody file={f} />,
      }))}
    />
  );
}
