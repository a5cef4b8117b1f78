/** What the console shows before a node is picked. */
import { Card, Result, Typography } from 'antd';
import { ApartmentOutlined } from '@ant-design/icons';
import { useSession } from '../session.ts';

/** The landing page of the console. */
export function HomePage() {
  const { user } = useSession();
  return (
    <Card>
      <Result
        icon={<ApartmentOutlined style={{ color: '#2f7d4f' }} />}
        title={`Welcome, ${user.displayName || user.username}`}
        subTitle="Pick a node in the service tree to see its machines, permissions and audit log."
        extra={
          user.superuser ? (
            <Typography.Text type="secondary">Use “New root” in the side bar to start a tree.</Typography.Text>
          ) : undefined
        }
      />
    </Card>
  );
}
