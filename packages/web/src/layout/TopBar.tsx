/** The top bar: product name, the Admin menu, a link to the API description, the user and logout. */
import { Avatar, Button, Dropdown, Space, Tag, Typography } from 'antd';
import { ApiOutlined, ClusterOutlined, DownOutlined, LogoutOutlined, SettingOutlined, UserOutlined } from '@ant-design/icons';
import { sectionsFor } from '../admin/sections.tsx';
import { API } from '../api.ts';
import { adminUrl, navigate } from '../router.ts';
import { useSession } from '../session.ts';

/** Header content of the console layout. */
export function TopBar() {
  const { user, logout } = useSession();
  return (
    <div style={{ display: 'flex', alignItems: 'center', justifyContent: 'space-between', height: '100%' }}>
      <a
        href="/"
        onClick={(e) => {
          e.preventDefault();
          navigate('/');
        }}
        style={{ color: '#fff', fontSize: 18, fontWeight: 600 }}
      >
        <ClusterOutlined style={{ marginInlineEnd: 8 }} />
        Canopy
      </a>
      <Space size="middle">
        <Dropdown
          trigger={['click']}
          menu={{
            items: sectionsFor(user.superuser).map((sec) => ({ key: sec.key, label: sec.label, icon: sec.icon })),
            onClick: ({ key }) => navigate(adminUrl(key)),
          }}
        >
          <Button type="link" icon={<SettingOutlined />} style={{ color: '#d9e8de' }}>
            Admin <DownOutlined />
          </Button>
        </Dropdown>
        <Button type="link" icon={<ApiOutlined />} href={`${API}/openapi.json`} target="_blank" style={{ color: '#d9e8de' }}>
          OpenAPI
        </Button>
        <Space size={8}>
          <Avatar size="small" icon={<UserOutlined />} style={{ background: '#4c9a6a' }} />
          <Typography.Text style={{ color: '#fff' }} data-testid="current-user">
            {user.displayName || user.username}
          </Typography.Text>
          {user.superuser && <Tag color="gold">superuser</Tag>}
        </Space>
        <Button icon={<LogoutOutlined />} size="small" onClick={() => void logout()}>
          Log out
        </Button>
      </Space>
    </div>
  );
}
