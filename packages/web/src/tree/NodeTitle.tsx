/** One row of the tree or the search list: the name (or path) and the subtree's machine count. */
import { Badge, Tooltip } from 'antd';
import { EyeInvisibleOutlined } from '@ant-design/icons';
import type { NodeView } from '../types.ts';

/** The label of a node with its machine count as a badge; a path-only step is greyed, without counts. */
export function NodeTitle({ node, text }: { node: NodeView; text?: string }) {
  const n = node.subtreeMachineCount;
  if (node.pathOnly) {
    return (
      <Tooltip title={`You can see only parts of ${node.path}: expand it to reach your nodes`} placement="right">
        <span style={{ display: 'flex', alignItems: 'center', gap: 6, color: '#8c8c8c' }} data-path={node.path} data-path-only="true">
          <span style={{ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>{text ?? node.name}</span>
          <EyeInvisibleOutlined aria-label="only a step towards your nodes" />
        </span>
      </Tooltip>
    );
  }
  return (
    <span style={{ display: 'flex', alignItems: 'center', justifyContent: 'space-between', gap: 8 }} data-path={node.path}>
      <span style={{ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>{text ?? node.name}</span>
      <Tooltip title={`${n} machine${n === 1 ? '' : 's'} in the subtree, ${node.machineCount} bound here`} placement="right">
        <Badge count={n} showZero overflowCount={99999} size="small" color={n > 0 ? '#2f7d4f' : '#d0d5d2'} />
      </Tooltip>
    </span>
  );
}
