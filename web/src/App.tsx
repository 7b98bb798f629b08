import { useQuery, useQueryClient } from '@tanstack/react-query';
import { App as AntApp, Button, ConfigProvider, Flex, Layout, Menu, Segmented, Spin, Tag, Typography } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import type { ReactElement } from 'react';
import { createBrowserRouter, Navigate, Outlet, RouterProvider, useLocation, useNavigate } from 'react-router';
import { currentSession, signOut, setSessionHooks, type Session } from './api/client';
import { useI18n, type Lang } from './i18n';
import { CasePage } from './pages/CasePage';
import { CasesPage } from './pages/CasesPage';
import { ComplaintsPage } from './pages/ComplaintsPage';
import { CyclesPage } from './pages/CyclesPage';
import { DrillsPage } from './pages/DrillsPage';
import { IncidentsPage } from './pages/IncidentsPage';
import { OverduePage } from './pages/OverduePage';
import { SuppliersPage } from './pages/SuppliersPage';
import { AuditChainPage } from './pages/AuditChainPage';
import { StartPage } from './pages/StartPage';
import { SupplierPage } from './pages/SupplierPage';
import { DashboardPage } from './pages/DashboardPage';
import { InboxPage } from './pages/InboxPage';
import { SignInPage } from './pages/SignInPage';
import { TaskPage } from './pages/TaskPage';
import { UsersPage } from './pages/UsersPage';
import { SessionContext } from './session';

/** The list screens, by path; the menu's "Lists" entry opens them. */
const LIST_PATHS = ['suppliers', 'incidents', 'complaints', 'drills', 'cycles', 'overdue'] as const;
const LIST_PAGES: Record<(typeof LIST_PATHS)[number], ReactElement> = {
  suppliers: <SuppliersPage />,
  incidents: <IncidentsPage />,
  complaints: <ComplaintsPage />,
  drills: <DrillsPage />,
  cycles: <CyclesPage />,
  overdue: <OverduePage />,
};

const router = createBrowserRouter(
  [
    {
      path: '/',
      element: <Shell />,
      children: [
        { index: true, element: <InboxPage /> },
        { path: 'cases', element: <CasesPage /> },
        { path: 'dashboard', element: <DashboardPage /> },
        { path: 'cases/:caseId', element: <CasePage /> },
        { path: 'tasks/:taskId', element: <TaskPage /> },
        { path: 'start', element: <StartPage /> },
        { path: 'start/:form', element: <StartPage /> },
        { path: 'suppliers/:supplierId', element: <SupplierPage /> },
        { path: 'audit', element: <AuditChainPage /> },
        { path: 'users', element: <UsersPage /> },
        // The lists (issue 13 §4): web/src/lists/.
        ...LIST_PATHS.map((path) => ({ path, element: LIST_PAGES[path] })),
        { path: '*', element: <Navigate to="/" replace /> },
      ],
    },
  ],
  { basename: '/console' },
);

/** Who may verify the audit chain (GET /api/audit/verify: OVERSIGHT_ROLES and admins). */
const AUDIT_CHAIN_ROLES = ['risk', 'compliance', 'internal_audit', 'auditor', 'admin'];

/**
 * Ant Design's defaults, darkened where their text falls below the 4.5:1
 * contrast that axe-core checks (links, danger buttons, secondary text).
 */
const THEME = {
  token: {
    colorPrimary: '#0a4fb5',
    colorInfo: '#0a4fb5',
    colorLink: '#0a4fb5',
    colorError: '#b7202e',
    colorTextSecondary: 'rgba(0, 0, 0, 0.7)',
    colorTextTertiary: 'rgba(0, 0, 0, 0.62)',
    colorTextDescription: 'rgba(0, 0, 0, 0.62)',
    colorTextPlaceholder: 'rgba(0, 0, 0, 0.6)',
  },
};

export function App() {
  const { lang } = useI18n();
  return (
    <ConfigProvider locale={lang === 'zh-CN' ? zhCN : enUS} theme={THEME}>
      <AntApp>
        <RouterProvider router={router} />
      </AntApp>
    </ConfigProvider>
  );
}

function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <Segmented<Lang>
      aria-label={t.language}
      value={lang}
      onChange={setLang}
      options={[
        { label: '中文', value: 'zh-CN' },
        { label: 'English', value: 'en-US' },
      ]}
    />
  );
}

function Shell() {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const location = useLocation();
  const session = useQuery({ queryKey: ['session'], queryFn: currentSession, staleTime: Infinity });
  const current: Session | null = session.data ?? null;
  if (session.isPending) return <Spin fullscreen />;
  if (!current) {
    return (
      <SignInPage languageSwitch={<LanguageSwitch />} onSignedIn={(s) => queryClient.setQueryData(['session'], s)} />
    );
  }
  setSessionHooks(current.csrfToken, () => queryClient.setQueryData(['session'], null));
  const readOnly = current.user.roles.every((r) => r === 'auditor');
  const oversight = current.user.roles.some((r) => AUDIT_CHAIN_ROLES.includes(r));
  const admin = current.user.roles.includes('admin');
  const selected = location.pathname.startsWith('/dashboard')
    ? 'dashboard'
    : location.pathname.startsWith('/cases')
      ? 'cases'
      : location.pathname.startsWith('/start')
        ? 'start'
        : location.pathname.startsWith('/audit')
          ? 'audit'
          : location.pathname.startsWith('/users')
            ? 'users'
            : 'inbox';
  return (
    <SessionContext.Provider value={{ session: current, readOnly }}>
      <Layout style={{ minHeight: '100vh' }}>
        <Layout.Header style={{ display: 'flex', alignItems: 'center', gap: 24, background: '#fff' }}>
          <Typography.Text strong style={{ fontSize: 16, whiteSpace: 'nowrap' }}>
            {t.appTitle}
          </Typography.Text>
          <nav aria-label={t.appTitle} style={{ flex: 1, minWidth: 0 }}>
            <Menu
              mode="horizontal"
              selectedKeys={[LIST_PATHS.find((p) => location.pathname.startsWith(`/${p}`)) ?? selected]}
              onClick={({ key }) =>
                navigate(
                  (LIST_PATHS as readonly string[]).includes(key)
                    ? `/${key}`
                    : ['dashboard', 'start', 'audit', 'cases', 'users'].includes(key)
                      ? `/${key}`
                      : '/',
                )
              }
              items={[
                { key: 'inbox', label: t.inbox },
                { key: 'cases', label: t.cases },
                { key: 'dashboard', label: t.dashboard },
                ...(readOnly ? [] : [{ key: 'start', label: t.start.menu }]),
                ...(oversight ? [{ key: 'audit', label: t.auditChain.menu }] : []),
                ...(admin ? [{ key: 'users', label: t.users.menu }] : []),
                {
                  key: 'lists',
                  label: t.lists.menu,
                  children: [
                    { key: 'suppliers', label: t.lists.suppliers },
                    { key: 'incidents', label: t.lists.incidents },
                    { key: 'complaints', label: t.lists.complaints },
                    { key: 'drills', label: t.lists.drills },
                    { key: 'cycles', label: t.lists.cycles },
                    { key: 'overdue', label: t.lists.overdueItems },
                  ],
                },
              ]}
            />
          </nav>
          <Flex gap={12} align="center">
            <LanguageSwitch />
            <span data-testid="whoami">{current.user.name}</span>
            {readOnly && <Tag color="default">{t.readOnly}</Tag>}
            <Button
              onClick={async () => {
                await signOut();
                queryClient.clear();
                queryClient.setQueryData(['session'], null);
              }}
            >
              {t.signOut}
            </Button>
          </Flex>
        </Layout.Header>
        <Layout.Content style={{ padding: 24 }}>
          <main>
            <Outlet />
          </main>
        </Layout.Content>
      </Layout>
    </SessionContext.Provider>
  );
}
