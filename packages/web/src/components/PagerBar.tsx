/** Previous/next controls and a "1–50 of 123" summary for cursor-paged tables. */
import { Button, Space, Typography } from 'antd';
import { LeftOutlined, RightOutlined } from '@ant-design/icons';
import type { CursorPages } from './useCursorPages.ts';

/** Footer of a cursor-paged list. */
export function PagerBar<T>({ pages, pageSize }: { pages: CursorPages<T>; pageSize: number }) {
  const shown = pages.page?.items.length ?? 0;
  const from = shown ? pages.index * pageSize + 1 : 0;
  const total = pages.page?.total;
  return (
    <Space style={{ width: '100%', justifyContent: 'flex-end', marginTop: 12 }}>
      <Typography.Text type="secondary">
        {from}–{from + Math.max(shown - 1, 0)}
        {total !== undefined ? ` of ${total}` : ''}
      </Typography.Text>
      <Button size="small" icon={<LeftOutlined />} disabled={pages.index === 0 || pages.loading} onClick={pages.prev}>
        Previous
      </Button>
      <Button size="small" disabled={!pages.hasNext || pages.loading} onClick={pages.next}>
        Next <RightOutlined />
      </Button>
    </Space>
  );
}
