/** The side bar: search, create buttons and the lazily loaded service tree. */
import { useEffect, useMemo, useState, type Key } from 'react';
import { Alert, Button, Empty, Input, Space, Tooltip, Tree } from 'antd';
import type { TreeDataNode as DataNode } from 'antd';
import { PlusOutlined, ApartmentOutlined } from '@ant-design/icons';
import { accessOf } from '../components/permissions.tsx';
import { navigate, nodeUrl } from '../router.ts';
import { useSession } from '../session.ts';
import { CreateNodeModal } from './CreateNodeModal.tsx';
import { NodeTitle } from './NodeTitle.tsx';
import { SearchResults } from './SearchResults.tsx';
import { ancestorsOf, nodeAt, type ServiceTree } from './useServiceTree.ts';

function toTreeData(children: ServiceTree['children'], parent: string): DataNode[] {
  return (children.get(parent) ?? []).map((n) => {
    const kids = children.has(n.path) ? toTreeData(children, n.path) : undefined;
    // A path-only step hides its counts (0): it always leads somewhere, so it is never a leaf.
    return { key: n.path, title: <NodeTitle node={n} />, isLeaf: !n.pathOnly && n.childCount === 0, ...(kids ? { children: kids } : {}) };
  });
}

export interface TreePanelProps {
  tree: ServiceTree;
  /** The path of the node page on screen. */
  selected: string | undefined;
}

/** Tree navigation for the console. */
export function TreePanel({ tree, selected }: TreePanelProps) {
  const { user } = useSession();
  const [q, setQ] = useState('');
  const [expanded, setExpanded] = useState<Key[]>([]);
  const [createUnder, setCreateUnder] = useState<string | null | undefined>(undefined);

  // Keep the node on screen visible: open its ancestors (they load one level at a time).
  useEffect(() => {
    if (!selected) return;
    setExpanded((keys) => [...new Set([...keys, ...ancestorsOf(selected)])]);
  }, [selected]);

  const treeData = useMemo(() => toTreeData(tree.children, ''), [tree.children]);
  const loadedKeys = useMemo(() => [...tree.children.keys()].filter(Boolean), [tree.children]);
  const searching = q.trim() !== '';
  const here = selected ? nodeAt(tree, selected) : undefined;
  // New child needs tree.write on the node on screen (until its row is loaded, the server decides).
  const childBlocked = !selected ? 'Select a node first' : here && !accessOf(here).can('tree.write') ? `Creating a node under ${selected} needs tree.write there` : undefined;

  // A path-only step has no page of its own worth opening: a click opens or closes it instead.
  function pick(path: string): void {
    if (!nodeAt(tree, path)?.pathOnly) return navigate(nodeUrl(path));
    setExpanded((keys) => (keys.includes(path) ? keys.filter((k) => k !== path) : [...keys, path]));
  }

  return (
    <div style={{ display: 'flex', flexDirection: 'column', height: '100%' }}>
      <div style={{ padding: '12px 12px 8px' }}>
        <Input.Search placeholder="Search nodes" allowClear value={q} onChange={(e) => setQ(e.target.value)} aria-label="Search nodes" />
        <Space style={{ marginTop: 8 }}>
          {user.superuser && (
            <Tooltip title="Create a top-level node">
              <Button size="small" icon={<ApartmentOutlined />} onClick={() => setCreateUnder(null)}>
                New root
              </Button>
            </Tooltip>
          )}
          <Tooltip title={childBlocked ?? `Create a node under ${selected}`}>
            <Button size="small" icon={<PlusOutlined />} disabled={childBlocked !== undefined} onClick={() => setCreateUnder(selected)}>
              New child
            </Button>
          </Tooltip>
        </Space>
      </div>
      <div style={{ flex: 1, overflow: 'auto', padding: '0 4px 12px' }}>
        {tree.error && <Alert type="error" showIcon title={tree.error} style={{ margin: 8 }} />}
        {searching ? (
          <SearchResults q={q.trim()} selected={selected} onPick={(path) => navigate(nodeUrl(path))} />
        ) : treeData.length === 0 && tree.children.has('') ? (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="The tree is empty" />
        ) : (
          <Tree
            blockNode
            showLine
            treeData={treeData}
            loadData={(n) => tree.load(String(n.key))}
            loadedKeys={loadedKeys}
            expandedKeys={expanded}
            onExpand={(keys) => setExpanded(keys)}
            selectedKeys={selected ? [selected] : []}
            onSelect={(_keys, info) => pick(String(info.node.key))}
          />
        )}
      </div>
      <CreateNodeModal
        parent={createUnder}
        onClose={() => setCreateUnder(undefined)}
        onCreated={(node) => {
          if (node.parentPath) setExpanded((keys) => [...new Set([...keys, node.parentPath as string])]);
          void tree.refresh();
          navigate(nodeUrl(node.path));
        }}
      />
    </div>
  );
}
