/** A node path that opens that node's Config tab: how provenance is shown throughout the tab. */
import { Tag, Tooltip } from 'antd';
import { navigate, nodeUrl } from '../../router.ts';

/** Link to `path`'s Config tab; the node being viewed (`here`) is tagged instead of linked. */
export function NodeLink({ path, here }: { path: string; here?: string }) {
  if (path === here) {
    return (
      <Tooltip title={path}>
        <Tag color="green">this node</Tag>
      </Tooltip>
    );
  }
  const url = nodeUrl(path, 'config');
  return (
    <a
      href={url}
      onClick={(e) => {
        // Modified clicks (new tab or window) stay with the browser.
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(url);
      }}
    >
      <code>{path}</code>
    </a>
  );
}
