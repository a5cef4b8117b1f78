/** A live tail of one host's process log: the last lines, then what it writes (an event stream from its agent). */
import { useEffect, useRef, useState } from 'react';
import { Alert, Button, Radio, Space, Tag, Typography } from 'antd';
import { API, seg, withQuery } from '../../api.ts';
import { appendTail } from './model.ts';

export function LogTail({ node, host, onClose }: { node: string; host: string; onClose: () => void }) {
  const [stream, setStream] = useState<'stdout' | 'stderr'>('stdout');
  const [text, setText] = useState('');
  const [feed, setFeed] = useState<'connecting' | 'live' | 'ended' | 'reconnecting'>('connecting');
  const [error, setError] = useState<string>();
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    setText('');
    setError(undefined);
    setFeed('connecting');
    const es = new EventSource(withQuery(`${API}/nodes/${seg(node)}/processes/logs`, { host, node, stream, lines: 200, follow: 'true' }));
    // A reconnection sends the last lines again: start over rather than repeat them.
    es.onopen = () => {
      setText('');
      setFeed('live');
    };
    es.addEventListener('log', (ev: MessageEvent<string>) => setText((t) => appendTail(t, (JSON.parse(ev.data) as { text: string }).text)));
    es.addEventListener('end', (ev: MessageEvent<string>) => {
      const d = JSON.parse(ev.data) as { error?: string };
      if (d.error) setError(d.error);
      setFeed('ended');
      es.close();
    });
    es.onerror = () => setFeed((f) => (f === 'ended' ? f : 'reconnecting'));
    return () => es.close();
  }, [node, host, stream]);

  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [text]);

  return (
    <Space orientation="vertical" style={{ width: '100%' }} data-testid="process-log">
      <Space wrap>
        <Typography.Text strong>
          {node} on {host}
        </Typography.Text>
        <Radio.Group size="small" value={stream} onChange={(e) => setStream(e.target.value as 'stdout' | 'stderr')} optionType="button" options={['stdout', 'stderr']} />
        <Tag color={feed === 'live' ? 'green' : feed === 'reconnecting' ? 'orange' : 'default'}>{feed}</Tag>
        <Button size="small" onClick={onClose}>
          Close
        </Button>
      </Space>
      {error && <Alert type="warning" showIcon title={error} />}
      <pre ref={box} data-testid="process-log-text" style={{ maxHeight: 420, overflow: 'auto', background: '#111', color: '#ddd', padding: 12, margin: 0, fontSize: 12 }}>
        {text || (feed === 'live' ? '(nothing written yet)' : '')}
      </pre>
    </Space>
  );
}
