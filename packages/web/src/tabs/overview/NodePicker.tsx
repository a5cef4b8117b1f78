/** A searchable select of node paths, fed by GET /nodes?q=. */
import { useEffect, useState } from 'react';
import { Select } from 'antd';
import { api } from '../../api.ts';
import { accessOf } from '../../components/permissions.tsx';
import type { NodeView } from '../../types.ts';

export const TOP_LEVEL = '\u0000top';

export interface NodePickerProps {
  /** Set by Form.Item so the field's label points at the input. */
  id?: string;
  value?: string;
  onChange?: (value: string) => void;
  /** Paths that may not be picked (the node itself and its subtree, for a move). */
  exclude?: (path: string) => boolean;
  /** Offer "top level" as a choice (superusers moving a node to the roots). */
  allowTopLevel?: boolean;
  /** Offer only nodes where the caller holds this operation (e.g. tree.write for a new parent). */
  needs?: string;
}

/** Select a node by typing part of its path. */
export function NodePicker({ id, value, onChange, exclude, allowTopLevel, needs }: NodePickerProps) {
  const [q, setQ] = useState('');
  const [items, setItems] = useState<NodeView[]>([]);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    let stale = false;
    setLoading(true);
    const query = q.trim() ? { q: q.trim(), limit: 50 } : { depth: 3, limit: 50 };
    api.get<{ items: NodeView[] }>('/nodes', query).then(
      (r) => !stale && setItems(r.items),
      () => !stale && setItems([]),
    ).finally(() => !stale && setLoading(false));
    return () => {
      stale = true;
    };
  }, [q]);

  const options = [
    ...(allowTopLevel ? [{ value: TOP_LEVEL, label: '(top level)' }] : []),
    ...items.filter((n) => !exclude?.(n.path) && (needs === undefined || accessOf(n).can(needs))).map((n) => ({ value: n.path, label: n.path })),
  ];
  return (
    <Select
      {...(id ? { id } : {})}
      showSearch={{ filterOption: false, onSearch: setQ }}
      value={value}
      onChange={(v: string) => onChange?.(v)}
      options={options}
      loading={loading}
      placeholder="Type to search nodes"
      notFoundContent={loading ? 'Searching…' : 'No match'}
    />
  );
}
