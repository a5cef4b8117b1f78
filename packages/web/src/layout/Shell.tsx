/** The logged-in layout: top bar, service tree on the left, the page on the right. */
import { Layout } from 'antd';
import type { Route } from '../router.ts';
import { TreePanel } from '../tree/TreePanel.tsx';
import { useServiceTree } from '../tree/useServiceTree.ts';
import { NodePage } from '../nodes/NodePage.tsx';
import { HomePage } from '../pages/HomePage.tsx';
import { AdminPage } from '../admin/AdminPage.tsx';
import { TopBar } from './TopBar.tsx';

const HEADER_HEIGHT = 52;

/** Console chrome around the routed page. */
export function Shell({ route }: { route: Route }) {
  const tree = useServiceTree();
  const selected = route.page === 'node' ? route.path : undefined;
  return (
    <Layout style={{ height: '100vh' }}>
      <Layout.Header style={{ height: HEADER_HEIGHT, lineHeight: `${HEADER_HEIGHT}px`, padding: '0 20px', background: '#1f3b2c' }}>
        <TopBar />
      </Layout.Header>
      <Layout>
        <Layout.Sider width={300} theme="light" style={{ borderInlineEnd: '1px solid #e8ebe9', overflow: 'hidden' }}>
          <TreePanel tree={tree} selected={selected} />
        </Layout.Sider>
        <Layout.Content style={{ overflow: 'auto', padding: '16px 24px', background: '#f5f7f6' }}>
          {route.page === 'node' ? (
            <NodePage key={route.path} path={route.path} tab={route.tab} onTreeChanged={tree.refresh} />
          ) : route.page === 'admin' ? (
            <AdminPage section={route.section} onTreeChanged={tree.refresh} />
          ) : (
            <HomePage />
          )}
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
