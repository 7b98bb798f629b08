import { useQuery, useQueryClient } from '@tanstack/react-query';
import { App as AntApp, Button, ConfigProvider, Flex, Layout, Menu, Segmented, Spin, Tag, Typography } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { lazy, Suspense, type ComponentType, type ReactElement } from 'react';
import { createBrowserRouter, Navigate, Outlet, RouterProvider, useLocation, useNavigate } from 'react-router';
import { currentSession, signOut, setSessionHooks, type Session } from './api/client';
import { useI18n, type Lang } from './i18n';
import { InboxPage } from './pages/InboxPage';
import { SignInPage } from './pages/SignInPage';
import { SessionContext } from './session';

/**
 * Every screen but the inbox (where the console opens) and the sign-in page
 * is its own chunk, loaded when first opened: the first load carries React,
 * the Ant Design components those two use and the inbox, not ECharts and
 * every form (`npm run bench` reports its size).
 */
const screen = <K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K) =>
  lazy(async () => ({ default: (await load())[name] }));
const CasePage = screen(() => import('./pages/CasePage'), 'CasePage');
const CasesPage = screen(() => import('./pages/CasesPage'), 'CasesPage');
const ComplaintsPage = screen(() => import('./pages/ComplaintsPage'), 'ComplaintsPage');
const CyclesPage = screen(() => import('./pages/CyclesPage'), 'CyclesPage');
const DrillsPage = screen(() => import('./pages/DrillsPage'), 'DrillsPage');
const IncidentsPage = screen(() => import('./pages/IncidentsPage'), 'IncidentsPage');
const OverduePage = screen(() => import('./pages/OverduePage'), 'OverduePage');
const SuppliersPage = screen(() => import('./pages/SuppliersPage'), 'SuppliersPage');
const AuditChainPage = screen(() => import('./pages/AuditChainPage'), 'AuditChainPage');
const StartPage = screen(() => import('./pages/StartPage'), 'StartPage');
const SupplierPage = screen(() => import('./pages/SupplierPage'), 'SupplierPage');
const DashboardPage = screen(() => import('./pages/DashboardPage'), 'DashboardPage');
const TaskPage = screen(() => import('./pages/TaskPage'), 'TaskPage');
const UsersPage = screen(() => import('./pages/UsersPage'), 'UsersPage');

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
                const endSessionUrl = await signOut();
                // Signed in through the identity provider: its session ends too, and it sends the browser back here.
                if (endSessionUrl) return window.location.assign(endSessionUrl);
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
            <Suspense fallback={<Spin aria-label={t.loading} style={{ display: 'block', margin: '48px auto' }} />}>
              <Outlet />
            </Suspense>
          </main>
        </Layout.Content>
      </Layout>
    </SessionContext.Provider>
  );
}
