/** One build, live: its state, source, machine and artifact, the cancel button, and the log as it grows. */
import { useEffect, useRef, useState } from 'react';
import { Alert, App, Button, Descriptions, Space, Tag, Typography } from 'antd';
import { ArrowLeftOutlined, StopOutlined } from '@ant-design/icons';
import { api, messageOf } from '../../api.ts';
import { useAccess } from '../../components/permissions.tsx';
import { BUILD_STATE_COLOR, durationText, isFinished } from './model.ts';
import { useBuildLog, type FeedState } from './useBuildLog.ts';

const FEED_TEXT: Record<FeedState, [string, string]> = {
  connecting: ['default', 'connecting…'],
  live: ['processing', 'live'],
  reconnecting: ['warning', 'reconnecting…'],
  done: ['default', 'finished'],
};

/** The detail of build `id`, followed live; `onBack` returns to the list. */
export function BuildDetail({ id, onBack }: { id: number; onBack: () => void }) {
  const { message } = App.useApp();
  const access = useAccess();
  const { build, log, feed } = useBuildLog(id);
  const [busy, setBusy] = useState(false);
  const logRef = useRef<HTMLPreElement>(null);
  const [stick, setStick] = useState(true);

  // Keep the newest lines in view unless the reader scrolled up.
  useEffect(() => {
    const el = logRef.current;
    if (el && stick) el.scrollTop = el.scrollHeight;
  }, [log, stick]);

  async function cancel(): Promise<void> {
    setBusy(true);
    try {
      await api.post(`/builds/${id}/cancel`);
      void message.success(`Build #${id}: cancelling`);
    } catch (err) {
      void message.error(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Space orientation="vertical" size={12} style={{ width: '100%' }} data-testid="build-detail">
      <Space wrap>
        <Button icon={<ArrowLeftOutlined />} onClick={onBack}>
          All builds
        </Button>
        <Typography.Title level={5} style={{ margin: 0 }}>
          Build #{id}
        </Typography.Title>
        {build && (
          <Tag color={BUILD_STATE_COLOR[build.state]} data-testid="build-state">
            {build.state}
          </Tag>
        )}
        <Tag color={FEED_TEXT[feed][0]}>{FEED_TEXT[feed][1]}</Tag>
        {build && !isFinished(build.state) && build.state !== 'cancelling' && access.can('deploy.run') && (
          <Button danger icon={<StopOutlined />} loading={busy} onClick={() => void cancel()} data-testid="build-cancel">
            Cancel
          </Button>
        )}
      </Space>
      {build?.reason && <Alert type={build.state === 'failed' ? 'error' : 'info'} showIcon title={build.reason} data-testid="build-reason" />}
      {build && (
        <Descriptions size="small" column={{ xs: 1, md: 2 }} bordered>
          <Descriptions.Item label="Repository">
            <Typography.Text code>{build.repo}</Typography.Text>
          </Descriptions.Item>
          <Descriptions.Item label="Ref">
            {build.ref}
            {build.commit && <Typography.Text code> {build.commit.slice(0, 12)}</Typography.Text>}
          </Descriptions.Item>
          <Descriptions.Item label="Command">
            <Typography.Text code>{build.command}</Typography.Text>
          </Descriptions.Item>
          <Descriptions.Item label="Output">{build.outputPath}</Descriptions.Item>
          <Descriptions.Item label="Pool">{build.pool}</Descriptions.Item>
          <Descriptions.Item label="Machine">{build.hostname ?? '—'}</Descriptions.Item>
          <Descriptions.Item label="Artifact">
            {build.artifact ? (
              <span data-testid="build-artifact">
                {build.nodePath}@{build.artifact.version} ({build.artifact.size} bytes, sha256 <Typography.Text code>{build.artifact.sha256.slice(0, 16)}…</Typography.Text>)
              </span>
            ) : (
              (build.version ?? '(version derived from the commit)')
            )}
          </Descriptions.Item>
          <Descriptions.Item label="Took">{durationText(build.durationMs)}</Descriptions.Item>
        </Descriptions>
      )}
      <pre
        ref={logRef}
        data-testid="build-log"
        onScroll={(e) => {
          const el = e.currentTarget;
          setStick(el.scrollTop + el.clientHeight >= el.scrollHeight - 8);
        }}
        style={{ background: '#0b0f14', color: '#d6dde6', padding: 12, borderRadius: 6, maxHeight: 480, minHeight: 120, overflow: 'auto', margin: 0, fontSize: 12, whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}
      >
        {log || (build?.state === 'queued' ? 'Waiting for a build slot…' : '')}
      </pre>
    </Space>
  );
}
