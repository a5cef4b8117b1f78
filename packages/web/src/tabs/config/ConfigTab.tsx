/**
 * Config tab: the node's Puppet configuration (issue #4). Its own classes, parameters and
 * environment; the effective result after inheritance with where each part came from; a preview of
 * the ENC answer for any machine under the node; install requests; and, for superusers, the classes
 * catalog and the default class set.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, Card, Col, Collapse, Row, Skeleton, Space, Typography } from 'antd';
import { SettingOutlined } from '@ant-design/icons';
import { api, messageOf, requestWithEtag, seg } from '../../api.ts';
import { useSession } from '../../session.ts';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { EffectiveTable } from './EffectiveTable.tsx';
import { EncPreview } from './EncPreview.tsx';
import { InstallRequests, useInstallRequests } from './InstallRequests.tsx';
import type { CatalogStatus, NodePuppet } from './model.ts';
import { OwnConfigEditor } from './OwnConfigEditor.tsx';
import { PuppetSettings } from './PuppetSettings.tsx';

interface Loaded {
  view: NodePuppet;
  etag: string | null;
}

function Config({ node }: NodeTabProps) {
  const { user } = useSession();
  const [loaded, setLoaded] = useState<Loaded>();
  const [catalog, setCatalog] = useState<CatalogStatus>();
  const [error, setError] = useState<string>();
  // Bumped on every save, so the ENC preview re-reads its answer.
  const [revision, setRevision] = useState(0);
  const requests = useInstallRequests(node.path);

  const load = useCallback(async () => {
    try {
      const [own, cat] = await Promise.all([requestWithEtag<NodePuppet>('GET', `/nodes/${seg(node.path)}/puppet`), api.get<CatalogStatus>('/puppet/classes')]);
      setLoaded({ view: own.body, etag: own.etag });
      setCatalog(cat);
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [node.path]);

  useEffect(() => {
    void load();
  }, [load]);

  function changed(view: NodePuppet, etag: string | null): void {
    setLoaded({ view, etag });
    setRevision((r) => r + 1);
  }

  if (error && !loaded) return <Alert type="error" showIcon title={error} />;
  if (!loaded || !catalog) return <Skeleton active />;
  const { view, etag } = loaded;
  const own = view.own;

  return (
    <Space orientation="vertical" size={16} style={{ width: '100%' }}>
      {error && <Alert type="error" showIcon title={error} closable onClose={() => setError(undefined)} />}
      {catalog.classes.length === 0 && (
        <Alert type="info" showIcon title="The classes catalog is empty" description="Classes can be associated once the Puppet code base's list of classes is fetched (CANOPY_PUPPET_CLASSES_URL) or uploaded (PUT /api/v1/puppet/classes)." />
      )}
      <Row gutter={[16, 16]}>
        <Col xs={24} xxl={12}>
          <Card
            size="small"
            title="This node's own configuration"
            extra={
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {own ? `saved by ${own.updatedBy}, ${new Date(own.updatedAt).toLocaleString()}` : 'nothing stored here: all inherited'}
              </Typography.Text>
            }
          >
            <OwnConfigEditor view={view} etag={etag} catalog={catalog.classes} onChanged={changed} onRemoved={() => void load().then(() => setRevision((r) => r + 1))} />
          </Card>
        </Col>
        <Col xs={24} xxl={12}>
          <Card size="small" title="Effective result" extra={<Typography.Text type="secondary" style={{ fontSize: 12 }}>after inheritance from the ancestors</Typography.Text>}>
            <EffectiveTable view={view} />
          </Card>
        </Col>
      </Row>
      <Card size="small" title="ENC preview">
        <EncPreview path={node.path} pending={(requests.items ?? []).map((r) => r.hostname)} revision={revision} />
      </Card>
      <Card size="small" title="Install requests">
        <InstallRequests path={node.path} requests={requests} />
      </Card>
      {user.superuser && (
        <Collapse
          items={[
            {
              key: 'settings',
              label: (
                <span>
                  Puppet catalog and default classes <Typography.Text type="secondary">(all nodes; superusers)</Typography.Text>
                </span>
              ),
              children: <PuppetSettings catalog={catalog} onCatalog={setCatalog} />,
            },
          ]}
        />
      )}
    </Space>
  );
}

/** The Config tab descriptor. */
export const configTab: NodeTab = { key: 'config', needs: 'enc.read', label: 'Config', icon: <SettingOutlined />, Component: Config };
