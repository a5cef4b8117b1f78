/** The login form: username and password against POST /auth/login (sets the session cookie). */
import { useState } from 'react';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { ClusterOutlined, LockOutlined, UserOutlined } from '@ant-design/icons';
import { api, setCsrfToken } from '../api.ts';
import { applyIssues } from '../components/issues.ts';
import type { LoginResult, User } from '../types.ts';

interface Credentials {
  username: string;
  password: string;
}

/** Full-page login; calls `onLoggedIn` with the user once the cookie is set. */
export function LoginPage({ onLoggedIn }: { onLoggedIn: (user: User) => void }) {
  const [form] = Form.useForm<Credentials>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  async function submit(values: Credentials): Promise<void> {
    setBusy(true);
    setError(undefined);
    try {
      const res = await api.post<LoginResult>('/auth/login', values);
      setCsrfToken(res.csrfToken);
      onLoggedIn(res.user);
    } catch (err) {
      setError(applyIssues(form, ['username', 'password'], err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div style={{ minHeight: '100vh', display: 'grid', placeItems: 'center', background: 'linear-gradient(160deg, #eef5f0 0%, #f7f9fb 60%)' }}>
      <Card style={{ width: 360 }}>
        <Typography.Title level={3} style={{ marginTop: 0 }}>
          <ClusterOutlined style={{ color: '#2f7d4f', marginInlineEnd: 8 }} />
          Canopy
        </Typography.Title>
        <Typography.Paragraph type="secondary">Sign in to the service tree console.</Typography.Paragraph>
        {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} />}
        <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} requiredMark={false}>
          <Form.Item name="username" label="Username" rules={[{ required: true, message: 'enter your username' }]}>
            <Input prefix={<UserOutlined />} autoComplete="username" autoFocus />
          </Form.Item>
          <Form.Item name="password" label="Password" rules={[{ required: true, message: 'enter your password' }]}>
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>
            Sign in
          </Button>
        </Form>
      </Card>
    </div>
  );
}
