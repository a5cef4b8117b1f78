/**
 * Artifacts tab: the node's versions (and, on request, those of every service below it), newest
 * first, with digest, size, commit, builder and build log, who pushed each and when it was last
 * deployed; a download link per version; and with artifact.write an upload (hashed in the browser,
 * checked by the server), removal of a version and retention on demand.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Descriptions, Drawer, Input, Modal, Popconfirm, Space, Switch, Table, Tag, Tooltip, Typography } from 'antd';
import { CloudUploadOutlined, DownloadOutlined, InboxOutlined, ReloadOutlined, ScissorOutlined } from '@ant-design/icons';
import type { ArtifactList, PruneResult } from '@canopy/core';
import { api, messageOf, request, seg } from '../../api.ts';
import { useAccess } from '../../components/permissions.tsx';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { downloadUrl, formatBytes, sha256Hex, uploadProblem, type ArtifactView } from './model.ts';

function Upload({ nodePath, existing, open, onClose, onDone }: { nodePath: string; existing: string[]; open: boolean; onClose: () => void; onDone: (a: ArtifactView) => void }) {
  const [version, setVersion] = useState('');
  const [file, setFile] = useState<File>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const problem = uploadProblem(version || undefined, file, existing);
  const send = async () => {
    if (problem || !file) return;
    setBusy(true);
    try {
      const bytes = await file.arrayBuffer();
      const sha256 = await sha256Hex(bytes);
      const a = await request<ArtifactView>('PUT', `/artifacts/${seg(nodePath)}/${seg(version)}`, { body: bytes, contentType: 'application/octet-stream', query: { sha256 } });
      setError(undefined);
      setVersion('');
      setFile(undefined);
      onDone(a);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={`Upload a version of ${nodePath}`} open={open} onCancel={onClose} onOk={() => void send()} okText="Upload" okButtonProps={{ disabled: problem !== undefined, loading: busy }}>
      <Space orientation="vertical" style={{ width: '100%' }}>
        <Input placeholder="version, e.g. 1.4.2" value={version} onChange={(e) => setVersion(e.target.value.trim())} data-testid="artifact-version" />
        <input type="file" onChange={(e) => setFile(e.target.files?.[0])} data-testid="artifact-file" />
        {problem && (version || file) && <Typography.Text type="secondary">{problem}</Typography.Text>}
        {error && <Alert type="error" showIcon title={error} />}
      </Space>
    </Modal>
  );
}

function Artifacts({ node }: NodeTabProps) {
  const { message } = App.useApp();
  const access = useAccess();
  const mayWrite = access.can('artifact.write');
  const [subtree, setSubtree] = useState(false);
  const [list, setList] = useState<ArtifactView[]>([]);
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [uploading, setUploading] = useState(false);
  const [shown, setShown] = useState<ArtifactView>();

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setList((await api.get<ArtifactList>(`/artifacts/${seg(node.path)}`, { subtree, limit: 200 })).items);
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setLoading(false);
    }
  }, [node.path, subtree]);
  useEffect(() => void load(), [load]);

  const act = async (fn: () => Promise<string>) => {
    try {
      void message.success(await fn());
      await load();
    } catch (err) {
      setError(messageOf(err));
    }
  };

  const columns = [
    { title: 'Version', key: 'ref', render: (_: unknown, a: ArtifactView) => <a onClick={() => setShown(a)}>{subtree ? a.ref : a.version}</a> },
    { title: 'Size', dataIndex: 'size', render: (n: number) => formatBytes(n) },
    { title: 'sha256', dataIndex: 'sha256', render: (s: string) => <Typography.Text code copyable={{ text: s }}>{s.slice(0, 12)}</Typography.Text> },
    { title: 'Commit', dataIndex: 'commit', render: (c: string | null) => (c ? <code>{c.slice(0, 12)}</code> : '') },
    { title: 'Built by', key: 'builder', render: (_: unknown, a: ArtifactView) => [a.builder, a.buildId ? `build ${a.buildId}` : null].filter(Boolean).join(', ') },
    { title: 'Pushed', key: 'pushed', render: (_: unknown, a: ArtifactView) => <Tooltip title={a.createdAt}>{a.createdBy}, {new Date(a.createdAt).toLocaleString()}</Tooltip> },
    { title: 'Deployed', dataIndex: 'deployedAt', render: (d: string | null) => (d ? <Tag color="green">{new Date(d).toLocaleString()}</Tag> : '') },
    {
      title: '',
      key: 'actions',
      render: (_: unknown, a: ArtifactView) => (
        <Space size={4}>
          <Button size="small" icon={<DownloadOutlined />} href={downloadUrl(a)} data-testid="artifact-download">Download</Button>
          {mayWrite && (
            <Popconfirm title={`Remove ${a.ref}? Machines can no longer download it.`} onConfirm={() => act(async () => (await api.del(`/artifacts/${seg(a.nodePath)}/${seg(a.version)}`), `Removed ${a.ref}`))}>
              <Button size="small" danger>Remove</Button>
            </Popconfirm>
          )}
        </Space>
      ),
    },
  ];

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
        <Space>
          <Typography.Text type="secondary">Immutable versions of {node.path}, stored by sha256.</Typography.Text>
          <Switch checked={subtree} onChange={setSubtree} size="small" data-testid="artifact-subtree" /> <span>services below too</span>
        </Space>
        <Space>
          <Button icon={<ReloadOutlined />} onClick={() => void load()}>Reload</Button>
          {mayWrite && (
            <Popconfirm title="Remove versions beyond the retention policy now? Running and recently deployed versions stay." onConfirm={() => act(async () => {
              const r = await api.post<PruneResult>(`/artifacts/${seg(node.path)}/prune`);
              return `Removed ${r.removed.length} version(s), ${formatBytes(r.freedBytes)} freed`;
            })}>
              <Button icon={<ScissorOutlined />}>Apply retention</Button>
            </Popconfirm>
          )}
          {mayWrite && <Button type="primary" icon={<CloudUploadOutlined />} onClick={() => setUploading(true)} data-testid="artifact-upload">Upload</Button>}
        </Space>
      </Space>
      {!mayWrite && <Alert type="info" showIcon data-testid="read-only-note" title={`Read-only here: uploading and removing artifacts ${access.needs('artifact.write')}.`} style={{ padding: '4px 12px' }} />}
      {error && <Alert type="error" showIcon title={error} closable onClose={() => setError(undefined)} />}
      <Table<ArtifactView> size="middle" rowKey="id" loading={loading} dataSource={list} columns={columns} pagination={{ pageSize: 50, hideOnSinglePage: true }} locale={{ emptyText: <span><InboxOutlined /> No artifacts here yet</span> }} data-testid="artifact-list" />
      <Upload nodePath={node.path} existing={list.filter((a) => a.nodePath === node.path).map((a) => a.version)} open={uploading} onClose={() => setUploading(false)} onDone={(a) => {
        setUploading(false);
        void message.success(`Stored ${a.ref}`);
        void load();
      }} />
      <Drawer open={shown !== undefined} onClose={() => setShown(undefined)} title={shown?.ref} size="large">
        {shown && (
          <Descriptions column={1} bordered size="small" data-testid="artifact-detail">
            <Descriptions.Item label="sha256"><Typography.Text code copyable>{shown.sha256}</Typography.Text></Descriptions.Item>
            <Descriptions.Item label="Size">{formatBytes(shown.size)} ({shown.size} bytes)</Descriptions.Item>
            <Descriptions.Item label="Commit">{shown.commit ?? ''}</Descriptions.Item>
            <Descriptions.Item label="Builder">{shown.builder ?? ''}</Descriptions.Item>
            <Descriptions.Item label="Build">{shown.buildId ?? ''}</Descriptions.Item>
            <Descriptions.Item label="Build log">{shown.log ? (shown.log.startsWith('/api/') ? <a href={shown.log}>{shown.log}</a> : shown.log) : ''}</Descriptions.Item>
            <Descriptions.Item label="Pushed by">{shown.createdBy}</Descriptions.Item>
            <Descriptions.Item label="Pushed at">{shown.createdAt}</Descriptions.Item>
            <Descriptions.Item label="Last deployed">{shown.deployedAt ?? 'never'}</Descriptions.Item>
            <Descriptions.Item label="Download"><a href={downloadUrl(shown)}>{shown.url}</a></Descriptions.Item>
          </Descriptions>
        )}
      </Drawer>
    </Space>
  );
}

/** The Artifacts tab descriptor. */
export const artifactsTab: NodeTab = { key: 'artifacts', needs: 'artifact.read', label: 'Artifacts', icon: <InboxOutlined />, Component: Artifacts };
