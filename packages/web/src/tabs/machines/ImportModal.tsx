/** Import machines from CSV or JSON (POST /machines/import) and show the per-row report. */
import { useEffect, useState } from 'react';
import { Alert, Button, Checkbox, Input, Modal, Radio, Space, Typography, Upload } from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import { request, messageOf } from '../../api.ts';
import type { ImportReport } from '../../types.ts';
import { ImportReportView } from './ImportReportView.tsx';
import { detectFormat, prepareImport } from './importText.ts';

const EXAMPLE = 'hostname,ips,zone,status\nweb-01.example.net,10.0.0.11,az1,online\nweb-02.example.net,10.0.0.12;10.0.1.12,az2,online';

export interface ImportModalProps {
  nodePath: string;
  open: boolean;
  onClose: () => void;
  /** Called after an import that changed something, to refresh the list. */
  onImported: () => void;
}

/** Paste or upload a file, pick create/upsert, import, read the report. */
export function ImportModal({ nodePath, open, onClose, onImported }: ImportModalProps) {
  const [text, setText] = useState('');
  const [mode, setMode] = useState<'create' | 'upsert'>('create');
  const [bindHere, setBindHere] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [report, setReport] = useState<ImportReport>();

  useEffect(() => {
    if (!open) return;
    setReport(undefined);
    setError(undefined);
  }, [open]);

  async function run(): Promise<void> {
    setBusy(true);
    setError(undefined);
    try {
      const format = detectFormat(text);
      const body = prepareImport(text, format, bindHere ? nodePath : undefined);
      const r = await request<ImportReport>('POST', '/machines/import', { query: { mode }, body, contentType: format === 'json' ? 'application/json' : 'text/csv' });
      setReport(r);
      if (r.created || r.updated) onImported();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  const footer = report
    ? [<Button key="again" onClick={() => setReport(undefined)}>Import more</Button>, <Button key="close" type="primary" onClick={onClose}>Done</Button>]
    : [<Button key="cancel" onClick={onClose}>Cancel</Button>, <Button key="go" type="primary" loading={busy} disabled={!text.trim()} onClick={() => void run()}>Import</Button>];

  return (
    <Modal title={`Import machines into ${nodePath}`} open={open} onCancel={onClose} footer={footer} width={760}>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      {report ? (
        <ImportReportView report={report} />
      ) : (
        <Space orientation="vertical" style={{ width: '100%' }}>
          <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
            CSV with a header row (lists separated by <code>;</code>, labels as <code>k=v;k=v</code>), or a JSON array of machines.
          </Typography.Paragraph>
          <Space wrap>
            <Radio.Group value={mode} onChange={(e) => setMode(e.target.value as 'create' | 'upsert')} optionType="button" options={[{ value: 'create', label: 'Create only' }, { value: 'upsert', label: 'Create or update' }]} />
            <Upload accept=".csv,.json,text/csv,application/json" showUploadList={false} beforeUpload={(file) => { void file.text().then(setText); return false; }}>
              <Button icon={<UploadOutlined />}>Choose a file</Button>
            </Upload>
            <Checkbox checked={bindHere} onChange={(e) => setBindHere(e.target.checked)}>
              Bind rows that name no node to {nodePath}
            </Checkbox>
          </Space>
          <Input.TextArea value={text} onChange={(e) => setText(e.target.value)} rows={10} placeholder={EXAMPLE} style={{ fontFamily: 'monospace' }} aria-label="Import data" />
        </Space>
      )}
    </Modal>
  );
}
