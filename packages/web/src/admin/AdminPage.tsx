/** The admin area: users, groups, roles, tokens, trash, audit and auth logs, one tab each (`/admin/<section>`). */
import { Card, Result, Tabs } from 'antd';
import { adminUrl, navigate } from '../router.ts';
import { useSession } from '../session.ts';
import { AuditLogPage } from './AuditLogPage.tsx';
import { AuthLogPage } from './AuthLogPage.tsx';
import { GroupsPage } from './GroupsPage.tsx';
import { RolesPage } from './RolesPage.tsx';
import { sectionsFor } from './sections.tsx';
import { TokensPage } from './TokensPage.tsx';
import { TrashPage } from './TrashPage.tsx';
import { UsersPage } from './UsersPage.tsx';

function SectionBody({ section, onTreeChanged }: { section: string; onTreeChanged: () => void }) {
  switch (section) {
    case 'users':
      return <UsersPage />;
    case 'groups':
      return <GroupsPage />;
    case 'roles':
      return <RolesPage />;
    case 'tokens':
      return <TokensPage />;
    case 'trash':
      return <TrashPage onRestored={onTreeChanged} />;
    case 'audit':
      return <AuditLogPage />;
    case 'auth-log':
      return <AuthLogPage />;
    default:
      return null;
  }
}

/** The admin page on `section`; `onTreeChanged` re-reads the side bar's tree (after a restore). */
export function AdminPage({ section, onTreeChanged }: { section: string; onTreeChanged: () => void }) {
  const { user } = useSession();
  const sections = sectionsFor(user.superuser);
  if (!sections.some((s) => s.key === section)) {
    return (
      <Card>
        <Result status="404" title="No such admin page" subTitle={`There is no admin page “${section}” for you.`} />
      </Card>
    );
  }
  return (
    <Card title="Administration" size="small">
      <Tabs
        activeKey={section}
        onChange={(key) => navigate(adminUrl(key))}
        destroyOnHidden
        items={sections.map((s) => ({ key: s.key, label: s.label, icon: s.icon, children: s.key === section ? <SectionBody section={s.key} onTreeChanged={onTreeChanged} /> : null }))}
      />
    </Card>
  );
}
