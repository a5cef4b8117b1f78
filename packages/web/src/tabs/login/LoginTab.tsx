/**
 * Login tab: who may log in to the node's machines (as which account, with sudo, and the grant
 * each comes from), the node's SSH settings and break-glass keys, and recent logins.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, Button, Card, Input, InputNumber, Modal, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { KeyOutlined } from '@ant-design/icons';
import type { LoginView, SshAccessView } from '@canopy/core';
import { api, messageOf, seg } from '../../api.ts';
import { PagerBar } from '../../components/PagerBar.tsx';
import { ReadOnlyNote, useAccess } from '../../components/permissions.tsx';
import { useCursorPages } from '../../components/useCursorPages.ts';
import type { Page } from '../../types.ts';
import type { NodeTab, NodeTabProps } from '../types.ts';

interface Settings {
  own: { loginAs: string | null; cacheSeconds: number | null };
  effective: { loginAs: string | null; loginAsFrom: string | null; cacheSeconds: number; cacheFrom: string | null };
  breakGlass: { id: number; fingerprint: string; createdBy: string; createdAt: string }[];
}

type AccessUser = SshAccessView['users'][number];

function Login({ node }: NodeTabProps) {
  const base = `/nodes/${seg(node.path)}/ssh`;
  const canWrite = useAccess().can('grant.write');
  const [access, setAccess] = useState<SshAccessView>();
  const [settings, setSettings] = useState<Settings>();
  const [error, setError] = useState<string>();
  const [loginAs, setLoginAs] = useState('');
  const [cache, setCache] = useState<number | null>(null);
  const [secret, setSecret] = useState<string>();
  const logins = useCursorPages<LoginView>(node.path, (cursor) => api.get<Page<LoginView>>(`${base}/logins`, { limit: 25, cursor }));

  const load = useCallback(async () => {
    try {
      const [a, s] = await Promise.all([api.get<SshAccessView>(`${base}/access`).catch(() => undefined), api.get<Settings>(`${base}/settings`)]);
      setAccess(a);
      setSettings(s);
      setLoginAs(s.own.loginAs ?? '');
      setCache(s.own.cacheSeconds);
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [base]);
  useEffect(() => void load(), [load]);

  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      await load();
    } catch (err) {
      setError(messageOf(err));
    }
  };

  const users = [
    { title: 'User', dataIndex: 'username' },
    { title: 'Account', dataIndex: 'account', render: (a: string | null, u: AccessUser) => (a ? <code>{a}</code> : <Typography.Text type="warning">{u.problem}</Typography.Text>) },
    { title: 'sudo', dataIndex: 'sudo', width: 80, render: (s: boolean) => (s ? <Tag color="red">sudo</Tag> : <Tag>no</Tag>) },
    { title: 'Keys', dataIndex: 'keys', width: 70 },
    { title: 'Through', key: 'grants', render: (_: unknown, u: AccessUser) => u.grants.map((g) => <Tag key={g.id}>{`${g.role} on ${g.node}${g.via === 'user' ? '' : `, ${g.via}`}${g.expiresAt ? ` until ${new Date(g.expiresAt).toLocaleString()}` : ''}`}</Tag>) },
  ];
  const loginColumns = [
    { title: 'Time', dataIndex: 'at', width: 180, render: (at: string) => new Date(at).toLocaleString() },
    { title: 'Machine', dataIndex: 'hostname' },
    { title: 'Account', dataIndex: 'account', render: (a: string) => <code>{a}</code> },
    { title: 'User', dataIndex: 'user' },
    { title: 'From', dataIndex: 'from' },
    { title: 'Result', dataIndex: 'result', render: (r: string, e: LoginView) => (e.breakGlassNode ? <Tag color="magenta">BREAK-GLASS</Tag> : <Tag color={r === 'accepted' ? 'green' : 'red'}>{r}</Tag>) },
    { title: 'By', dataIndex: 'method' },
    { title: 'Why', dataIndex: 'reason' },
  ];

  return (
    <Space orientation="vertical" size={16} style={{ width: '100%' }}>
      {error && <Alert type="error" showIcon title={error} closable onClose={() => setError(undefined)} />}
      <Card size="small" title="Who may log in here">
        {access ? <Table<AccessUser> size="small" rowKey="username" dataSource={access.users} columns={users} pagination={false} /> : <Typography.Text type="secondary">Seeing who may log in needs grant.read on this node.</Typography.Text>}
      </Card>
      {settings && (
        <Card size="small" title="SSH settings">
          <Space orientation="vertical">
            <Typography.Text>
              In effect: {settings.effective.loginAs ? <>everyone logs in as <code>{settings.effective.loginAs}</code> (set on {settings.effective.loginAsFrom})</> : 'each user as their own account'}; agents answer from their cache for {settings.effective.cacheSeconds} s without the control center{settings.effective.cacheFrom ? ` (set on ${settings.effective.cacheFrom})` : ' (default)'}.
            </Typography.Text>
            {canWrite ? (
            <Space wrap>
              <Input aria-label="Shared account" placeholder="shared account (empty: own accounts)" value={loginAs} onChange={(e) => setLoginAs(e.target.value)} style={{ width: 260 }} />
              <InputNumber aria-label="Cache seconds" placeholder="cache seconds (inherit)" min={5} value={cache} onChange={(v) => setCache(v)} style={{ width: 200 }} />
              <Button type="primary" onClick={() => act(() => api.put(`${base}/settings`, { loginAs: loginAs.trim() || null, cacheSeconds: cache }))}>Save</Button>
            </Space>
            ) : (
              <ReadOnlyNote op="grant.write" what="change SSH settings and break-glass keys" />
            )}
            <Typography.Title level={5}>Break-glass keys (root on every machine below, also without the control center)</Typography.Title>
            {settings.breakGlass.map((g) => (
              <Space key={g.id}>
                <code>{g.fingerprint}</code>
                <Typography.Text type="secondary">by {g.createdBy}, {new Date(g.createdAt).toLocaleString()}</Typography.Text>
                {canWrite && (
                  <Popconfirm title="Revoke this break-glass key?" onConfirm={() => act(() => api.del(`${base}/break-glass/${g.id}`))}>
                    <Button danger size="small">Revoke</Button>
                  </Popconfirm>
                )}
              </Space>
            ))}
            {canWrite && <Button icon={<KeyOutlined />} onClick={() => act(async () => setSecret((await api.post<{ privateKey: string }>(`${base}/break-glass`)).privateKey))}>New break-glass key</Button>}
          </Space>
        </Card>
      )}
      <Card size="small" title="Recent logins">
        {logins.error && <Alert type="error" showIcon title={logins.error} />}
        <Table<LoginView> size="small" rowKey="id" loading={logins.loading} dataSource={logins.page?.items ?? []} columns={loginColumns} pagination={false} />
        <PagerBar pages={logins} pageSize={25} />
      </Card>
      <Modal open={secret !== undefined} title="Break-glass private key: shown once" onOk={() => setSecret(undefined)} onCancel={() => setSecret(undefined)} cancelButtonProps={{ style: { display: 'none' } }}>
        <Typography.Paragraph>Store it offline. Every login with it is reported.</Typography.Paragraph>
        <Typography.Paragraph copyable={{ text: secret ?? '' }}>
          <pre style={{ fontSize: 11 }}>{secret}</pre>
        </Typography.Paragraph>
      </Modal>
    </Space>
  );
}

/** The Login tab descriptor. */
export const loginTab: NodeTab = { key: 'login', needs: 'machine.read', label: 'Login', icon: <KeyOutlined />, Component: Login };
