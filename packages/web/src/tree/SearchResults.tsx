/** Nodes matching a search, at any depth, as a flat list of paths. */
import { useEffect, useState } from 'react';
import { Alert, Empty, Menu, Spin } from 'antd';
import { api, messageOf } from '../api.ts';
import type { NodeView } from '../types.ts';
import { NodeTitle } from './NodeTitle.tsx';

const DEBOUNCE_MS = 200;

export interface SearchResultsProps {
  q: string;
  selected: string | undefined;
  onPick: (path: string) => void;
}

/** Live results of GET /nodes?q=. */
export function SearchResults({ q, selected, onPick }: SearchResultsProps) {
  const [items, setItems] = useState<NodeView[]>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    let stale = false;
    const timer = setTimeout(() => {
      api.get<{ items: NodeView[] }>('/nodes', { q, limit: 200 }).then(
        (r) => {
          if (stale) return;
          setItems(r.items);
          setError(undefined);
        },
        (err: unknown) => !stale && setError(messageOf(err)),
      );
    }, DEBOUNCE_MS);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [q]);

  if (error) return <Alert type="error" showIcon title={error} />;
  if (!items) return <Spin style={{ display: 'block', margin: 24 }} />;
  if (items.length === 0) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={`No node matches “${q}”`} />;
  return (
    <Menu
      mode="inline"
      style={{ borderInlineEnd: 'none' }}
      selectedKeys={selected ? [selected] : []}
      onClick={({ key }) => onPick(key)}
      items={items.map((n) => ({ key: n.path, label: <NodeTitle node={n} text={n.path} /> }))}
    />
  );
}
