/**
 * The page of a node the caller cannot open but which leads to nodes they can (an ancestor of
 * their grants): its path and the children that lead on, nothing else. The tree shows such a node
 * greyed; this page answers a breadcrumb or a bookmark to it instead of "No such node".
 */
import { useEffect, useState } from 'react';
import { Alert, Card, List, Result, Skeleton, Tag, Typography } from 'antd';
import { EyeInvisibleOutlined } from '@ant-design/icons';
import { api, messageOf } from '../api.ts';
import { navigate, nodeUrl } from '../router.ts';
import type { NodeView } from '../types.ts';

/** What the caller may reach under the path-only node `path`. */
export function PathOnlyPage({ path }: { path: string }) {
  const [children, setChildren] = useState<NodeView[]>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    let stale = false;
    api.get<{ items: NodeView[] }>('/nodes', { under: path }).then(
      (r) => !stale && setChildren(r.items),
      (err: unknown) => !stale && setError(messageOf(err)),
    );
    return () => {
      stale = true;
    };
  }, [path]);

  return (
    <Card data-testid="path-only">
      <Result
        icon={<EyeInvisibleOutlined style={{ color: '#8c8c8c' }} />}
        title={<Typography.Text code>{path}</Typography.Text>}
        subTitle={`You can see only parts of ${path}: the nodes below that you hold a role on, and the steps that lead to them.`}
      />
      {error && <Alert type="error" showIcon title={error} />}
      {!children && !error ? (
        <Skeleton active paragraph={{ rows: 2 }} />
      ) : (
        <List
          size="small"
          bordered
          dataSource={children ?? []}
          renderItem={(n) => (
            <List.Item>
              <a href={nodeUrl(n.path)} onClick={(e) => (e.preventDefault(), navigate(nodeUrl(n.path)))}>
                {n.path}
              </a>
              {n.pathOnly && <Tag>a step towards your nodes</Tag>}
            </List.Item>
          )}
        />
      )}
    </Card>
  );
}
