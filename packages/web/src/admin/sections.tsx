/** The admin pages: one list shared by the top bar's Admin menu and the admin page's own tabs. */
import type { ReactNode } from 'react';
import { AuditOutlined, DeleteOutlined, KeyOutlined, LoginOutlined, SafetyCertificateOutlined, TeamOutlined, UserOutlined } from '@ant-design/icons';

export interface AdminSection {
  key: string;
  label: string;
  icon: ReactNode;
  /** Only superusers see it (the API would refuse everyone else anyway). */
  superuserOnly: boolean;
}

export const ADMIN_SECTIONS: readonly AdminSection[] = [
  { key: 'users', label: 'Users', icon: <UserOutlined />, superuserOnly: false },
  { key: 'groups', label: 'Groups', icon: <TeamOutlined />, superuserOnly: false },
  { key: 'roles', label: 'Roles', icon: <SafetyCertificateOutlined />, superuserOnly: false },
  { key: 'tokens', label: 'API tokens', icon: <KeyOutlined />, superuserOnly: false },
  { key: 'trash', label: 'Trash', icon: <DeleteOutlined />, superuserOnly: true },
  { key: 'audit', label: 'Audit log', icon: <AuditOutlined />, superuserOnly: false },
  { key: 'auth-log', label: 'Auth log', icon: <LoginOutlined />, superuserOnly: false },
];

/** The sections this user may open. */
export function sectionsFor(superuser: boolean): AdminSection[] {
  return ADMIN_SECTIONS.filter((s) => superuser || !s.superuserOnly);
}
