/**
 * Discovery tab: the node's service (ports, policy, protect threshold, zones), its live instances
 * (health, weight, zone, drain/undrain), the aliases that lead to it and its dependency graph; or,
 * when the node is not a service yet, the way to make it one.
 */
import { useState } from 'react';
import { Alert, App, Badge, Button, Card, Empty, Skeleton, Space, Tooltip, Typography } from 'antd';
import { ApiOutlined, PlusOutlined } from '@ant-design/icons';
import { Allowed, ReadOnlyNote } from '../../components/permissions.tsx';
import type { NodeTab, NodeTabProps } from '../types.ts';
import { AliasesCard } from './AliasesCard.tsx';
import { DependencyGraph } from './DependencyGraph.tsx';
import { InstancesTable } from './InstancesTable.tsx';
import { draftOf, NEW_SERVICE } from './model.ts';
import { RegisterInstanceModal } from './RegisterInstanceModal.tsx';
import { ServiceModal } from './ServiceModal.tsx';
import { ServiceSummary } from './ServiceSummary.tsx';
import { useServiceState, type FeedState } from './useServiceState.ts';

type Dialog = 'service' | 'register' | undefined;

const FEED: Record<FeedState, { status: 'success' | 'processing' | 'warning' | 'default'; text: string; hint: string }> = {
  live: { status: 'success', text: 'live', hint: 'Changes are pushed here as they happen' },
  connecting: { status: 'processing', text: 'connecting', hint: 'Opening the live feed' },
  reconnecting: { status: 'warning', text: 'reconnecting', hint: 'The live feed dropped; the table may be stale until it resumes' },
  off: { status: 'default', text: 'not live', hint: 'No live feed' },
};

function NotAService({ path, aliasTarget, onMake }: { path: string; aliasTarget: string | undefined; onMake: () => void }) {
  return (
    <Card>
      <Empty
        image={<ApiOutlined style={{ fontSize: 48, color: '#bfbfbf' }} />}
        description={
          aliasTarget ? (
            <span>
              <Typography.Text code>{path}</Typography.Text> is an alias of <Typography.Text code>{aliasTarget}</Typography.Text>: clients asking for it get that service.
            </span>
          ) : (
            <span>
              <Typography.Text code>{path}</Typography.Text> is not a service yet. Make it one to register instances, balance load and let clients discover it.
            </span>
          )
        }
      >
        {!aliasTarget && (
          <Allowed op="discovery.write">
            <Button type="primary" icon={<PlusOutlined />} onClick={onMake}>
              Make this node a service
            </Button>
          </Allowed>
        )}
      </Empty>
    </Card>
  );
}

function Discovery({ node }: NodeTabProps) {
  const { message } = App.useApp();
  const state = useServiceState(node.path);
  const [dialog, setDialog] = useState<Dialog>();
  const { service, answer } = state;

  if (state.error && service === undefined) return <Alert type="error" showIcon title={state.error} />;
  if (service === undefined) return <Skeleton active />;

  const feed = FEED[state.feed];
  return (
    <Space orientation="vertical" size={16} style={{ width: '100%' }}>
      {state.error && <Alert type="error" showIcon title={state.error} closable />}
      <ReadOnlyNote op="discovery.write" what="changing the service, its instances and aliases" />
      {service === null ? (
        <NotAService path={node.path} aliasTarget={state.alias?.target} onMake={() => setDialog('service')} />
      ) : (
        <>
          <ServiceSummary service={service} answer={answer} onEdit={() => setDialog('service')} />
          <Card
            size="small"
            title={
              <Space>
                Instances
                <Tooltip title={feed.hint}>
                  <Badge status={feed.status} text={<Typography.Text type="secondary" style={{ fontSize: 12 }}>{feed.text}</Typography.Text>} data-testid="feed-state" />
                </Tooltip>
              </Space>
            }
            extra={
              <Allowed op="discovery.write">
                <Button size="small" type="primary" icon={<PlusOutlined />} onClick={() => setDialog('register')}>
                  Register instance
                </Button>
              </Allowed>
            }
          >
            <InstancesTable path={node.path} instances={answer?.instances} onChanged={() => void state.reload()} />
          </Card>
          <DependencyGraph path={node.path} />
          <AliasesCard path={node.path} />
          <RegisterInstanceModal
            service={service}
            open={dialog === 'register'}
            onClose={() => setDialog(undefined)}
            onRegistered={(i) => {
              void message.success(`Registered ${i.hostname}:${i.port}`);
              void state.reload();
            }}
          />
        </>
      )}
      <ServiceModal
        path={node.path}
        open={dialog === 'service'}
        creating={service === null}
        initial={service ? draftOf(service) : NEW_SERVICE}
        onClose={() => setDialog(undefined)}
        onSaved={(s) => {
          void message.success(service ? `Saved ${s.path}` : `${s.path} is now a service`);
          void state.reload();
        }}
      />
    </Space>
  );
}

/** The Discovery tab descriptor. */
export const discoveryTab: NodeTab = { key: 'discovery', needs: 'discovery.read', label: 'Discovery', icon: <ApiOutlined />, Component: Discovery };
