/** The page of one node: a header with its path and counts, and the registered tabs. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Alert, Breadcrumb, Card, Result, Skeleton, Space, Tabs, Tag, Tooltip, Typography } from 'antd';
import { api, ApiError, messageOf, seg } from '../api.ts';
import { AccessProvider, accessOf } from '../components/permissions.tsx';
import { navigate, nodeUrl } from '../router.ts';
import { NODE_TABS } from '../tabs/index.ts';
import type { NodeChange } from '../tabs/types.ts';
import { parentOf } from '../tree/useServiceTree.ts';
import type { NodeView } from '../types.ts';
import { forgetMove, movedFromOf, movedToOf, rememberMove } from './moved.ts';
import { PathOnlyPage } from './PathOnlyPage.tsx';

export interface NodePageProps {
  path: string;
  tab: string | undefined;
  /** Re-read the side bar's tree after a change. */
  onTreeChanged: () => Promise<void>;
}

function crumbs(path: string) {
  const parts = path.split('.');
  return parts.map((name, i) => {
    const p = parts.slice(0, i + 1).join('.');
    return { key: p, title: i === parts.length - 1 ? name : <a onClick={() => navigate(nodeUrl(p))}>{name}</a> };
  });
}

/** Route `/nodes/:path`. */
export function NodePage({ path, tab, onTreeChanged }: NodePageProps) {
  const [node, setNode] = useState<NodeView>();
  const [error, setError] = useState<ApiError | Error>();
  const [movedFrom, setMovedFrom] = useState(() => movedFromOf(path));
  // Read when following a move, without re-reading the node on every tab switch.
  const tabRef = useRef(tab);
  tabRef.current = tab;

  const load = useCallback(async () => {
    try {
      setNode(await api.get<NodeView>(`/nodes/${seg(path)}`));
      setError(undefined);
    } catch (err) {
      // A bookmark to an old path: go where the node went, and say so there.
      const to = movedToOf(err);
      if (to !== undefined && to !== path) {
        rememberMove(path, to);
        navigate(nodeUrl(to, tabRef.current), true);
        return;
      }
      setError(err instanceof Error ? err : new Error(messageOf(err)));
    }
  }, [path]);

  useEffect(() => {
    void load();
  }, [load]);

  const onChanged = useCallback(
    (change: NodeChange) => {
      void onTreeChanged();
      if (change.kind === 'moved') navigate(nodeUrl(change.path, tab), true);
      else if (change.kind === 'deleted') {
        const parent = parentOf(path);
        navigate(parent ? nodeUrl(parent) : '/', true);
      } else void load();
    },
    [onTreeChanged, load, path, tab],
  );

  if (error instanceof ApiError && error.status === 404) {
    return <Result status="404" title="No such node" subTitle={`'${path}' does not exist, or you may not see it.`} />;
  }
  if (error && !node) return <Alert type="error" showIcon title={error.message} />;
  if (!node) return <Skeleton active />;
  if (node.pathOnly) return <PathOnlyPage path={node.path} />;

  const access = accessOf(node);
  const readable = NODE_TABS.filter((t) => t.needs === undefined || access.can(t.needs));
  const active = readable.some((t) => t.key === tab) ? (tab as string) : (readable[0]?.key ?? '');
  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }}>
      {movedFrom && (
        <Alert
          type="info"
          showIcon
          data-testid="moved-notice"
          title={`${movedFrom} moved to ${node.path}`}
          description="The bookmark named the node's old path; update it to this page."
          closable={{ onClose: () => (forgetMove(path), setMovedFrom(undefined)) }}
        />
      )}
      <Card size="small" styles={{ body: { padding: '12px 20px' } }}>
        {node.parentPath !== null && <Breadcrumb items={crumbs(node.path)} />}
        <Space align="baseline" wrap style={{ marginTop: 4 }}>
          <Typography.Title level={3} style={{ margin: 0 }} data-testid="node-title">
            {node.name}
          </Typography.Title>
          <Typography.Text type="secondary" copyable>
            {node.path}
          </Typography.Text>
          <Tag color="green">{node.subtreeMachineCount} machines in subtree</Tag>
          <Tag>{node.childCount === 1 ? '1 child' : `${node.childCount} children`}</Tag>
        </Space>
        {node.description && <Typography.Paragraph style={{ margin: '4px 0 0' }}>{node.description}</Typography.Paragraph>}
      </Card>
      <Card size="small" styles={{ body: { paddingTop: 0 } }}>
        <AccessProvider node={node}>
          <Tabs
            className="node-tabs"
            activeKey={active}
            onChange={(key) => navigate(nodeUrl(node.path, key))}
            destroyOnHidden
            items={NODE_TABS.map((t) => ({
              key: t.key,
              label: readable.includes(t) || t.needs === undefined ? t.label : <Tooltip title={`Reading this tab ${access.needs(t.needs)}`}>{t.label}</Tooltip>,
              icon: t.icon,
              disabled: !readable.includes(t),
              children: <t.Component node={node} onChanged={onChanged} />,
            }))}
          />
        </AccessProvider>
      </Card>
    </Space>
  );
}
