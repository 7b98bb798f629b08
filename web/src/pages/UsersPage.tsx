/**
 * Users and tokens for admins (issue 13 §4): the users with their roles, line
 * manager and whether they are active; create a user, change their name,
 * roles or manager (PATCH), deactivate (which revokes their tokens) or
 * reactivate them; and per user their API tokens: issue one (its secret shown
 * once, with a copy button), list them, revoke one. Every call is an admin
 * route of api/routes/users.ts; a non-admin sees the API's own 403 explained.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Drawer,
  Flex,
  Form,
  Input,
  InputNumber,
  Modal,
  Popconfirm,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useState } from 'react';
import { api, unwrap } from '../api/client';
import type { components } from '../api/schema';
import { useI18n } from '../i18n';
import { Refusal } from '../Refusal';
import { useSession } from '../session';

type User = components['schemas']['User'];
type ApiToken = components['schemas']['ApiToken'];
type IssuedToken = components['schemas']['IssuedToken'];
type Role = User['roles'][number];

/** Every role the API accepts: `satisfies` fails `tsc -p web` when the schema's enum changes. */
const ROLES = [
  'manager',
  'risk',
  'compliance',
  'legal',
  'internal_audit',
  'action_owner',
  'auditor',
  'admin',
] as const satisfies readonly Role[];
type MissingRole = Exclude<Role, (typeof ROLES)[number]>;
const allRolesListed: MissingRole extends never ? true : false = true;
void allRolesListed;

const PAGE_SIZE = 20;
/** Solid tags dark enough for white text at 4.5:1 (axe-core's contrast check). */
const ACTIVE_COLOUR = '#23663a';
const INACTIVE_COLOUR = '#b7202e';

export function UsersPage() {
  const { session } = useSession();
  return session.user.roles.includes('admin') ? <UsersAdmin /> : <NotAdmin />;
}

/**
 * Not an admin: the menu has no entry, and the page asks the API for what
 * only admins may read (the caller's own tokens) so the refusal shown is the
 * API's own 403, not the console's guess.
 */
function NotAdmin() {
  const { t } = useI18n();
  const { session } = useSession();
  const probe = useQuery({
    queryKey: ['tokens', session.user.id],
    queryFn: () => unwrap(api.GET('/api/users/{userId}/tokens', { params: { path: { userId: session.user.id } } })),
    retry: false,
  });
  return (
    <Flex vertical gap={16}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
        {t.users.title}
      </Typography.Title>
      {probe.isPending ? <Card loading /> : <Refusal error={probe.error} title={t.users.adminsOnly} />}
    </Flex>
  );
}

function UsersAdmin() {
  const { t } = useI18n();
  const u = t.users;
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<User | null>(null);
  const [deactivating, setDeactivating] = useState<User | null>(null);
  const [tokensOf, setTokensOf] = useState<User | null>(null);
  const list = useQuery({
    queryKey: ['users', page],
    queryFn: () => unwrap(api.GET('/api/users', { params: { query: { page, pageSize: PAGE_SIZE } } })),
  });
  const reactivate = useReactivate();
  const roleTag = (r: string) => <Tag key={r}>{u.roleLabels[r] ?? r}</Tag>;
  return (
    <Flex vertical gap={16}>
      <Flex justify="space-between" align="center">
        <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
          {u.title}
        </Typography.Title>
        <Button type="primary" onClick={() => setCreating(true)}>
          {u.newUser}
        </Button>
      </Flex>
      {list.error ? <Refusal error={list.error} /> : null}
      {reactivate.error ? <Refusal error={reactivate.error} /> : null}
      <Card>
        <Table<User>
          data-testid="users"
          rowKey="id"
          size="middle"
          loading={list.isPending}
          dataSource={list.data?.items ?? []}
          pagination={{
            current: page,
            pageSize: PAGE_SIZE,
            total: list.data?.total ?? 0,
            showSizeChanger: false,
            onChange: setPage,
          }}
          columns={[
            { title: u.id, dataIndex: 'id', key: 'id', render: (id: string) => <code>{id}</code> },
            { title: u.name, dataIndex: 'name', key: 'name' },
            { title: u.email, dataIndex: 'email', key: 'email' },
            {
              title: u.roles,
              key: 'roles',
              render: (_, user) => (
                <Flex wrap gap={4}>
                  {user.roles.map(roleTag)}
                </Flex>
              ),
            },
            { title: u.manager, key: 'manager', render: (_, user) => user.managerId ?? '—' },
            {
              title: t.status,
              key: 'active',
              render: (_, user) => (
                <Tag color={user.active ? ACTIVE_COLOUR : INACTIVE_COLOUR} data-active={String(user.active)}>
                  {user.active ? u.active : u.inactive}
                </Tag>
              ),
            },
            {
              title: t.actions,
              key: 'actions',
              render: (_, user) => (
                <Space wrap>
                  <Button size="small" onClick={() => setEditing(user)} aria-label={`${u.edit} ${user.id}`}>
                    {u.edit}
                  </Button>
                  <Button size="small" onClick={() => setTokensOf(user)} aria-label={`${u.tokens} ${user.id}`}>
                    {u.tokens}
                  </Button>
                  {user.active ? (
                    <Button
                      size="small"
                      danger
                      onClick={() => setDeactivating(user)}
                      aria-label={`${u.deactivate} ${user.id}`}
                    >
                      {u.deactivate}
                    </Button>
                  ) : (
                    <Button
                      size="small"
                      loading={reactivate.isPending && reactivate.variables === user.id}
                      onClick={() => reactivate.mutate(user.id)}
                      aria-label={`${u.reactivate} ${user.id}`}
                    >
                      {u.reactivate}
                    </Button>
                  )}
                </Space>
              ),
            },
          ]}
        />
      </Card>
      {creating && <UserModal onClose={() => setCreating(false)} />}
      {editing && <UserModal user={editing} onClose={() => setEditing(null)} />}
      {deactivating && <DeactivateModal user={deactivating} onClose={() => setDeactivating(null)} />}
      {tokensOf && <TokensDrawer user={tokensOf} onClose={() => setTokensOf(null)} />}
    </Flex>
  );
}

function useReactivate() {
  const { t } = useI18n();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (userId: string) =>
      unwrap(api.POST('/api/users/{userId}/reactivate', { params: { path: { userId } }, body: {} })),
    onSuccess: async (user) => {
      message.success(t.users.reactivated(user.id));
      await queryClient.invalidateQueries({ queryKey: ['users'] });
    },
  });
}

/** The other users, for the line-manager select (the first 100: the route's largest page). */
function useManagerOptions(except?: string) {
  const all = useQuery({
    queryKey: ['users', 'managers'],
    queryFn: () => unwrap(api.GET('/api/users', { params: { query: { page: 1, pageSize: 100 } } })),
  });
  return (all.data?.items ?? [])
    .filter((x) => x.active && x.id !== except)
    .map((x) => ({ value: x.id, label: `${x.id} · ${x.name}` }));
}

interface UserFormValues {
  id: string;
  name: string;
  email: string;
  roles: Role[];
  managerId?: string | null;
}

/** Creates a user (no `user`) or changes one: name, roles and line manager. */
function UserModal({ user, onClose }: { user?: User; onClose(): void }) {
  const { t } = useI18n();
  const u = t.users;
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<UserFormValues>();
  const managers = useManagerOptions(user?.id);
  const save = useMutation({
    mutationFn: (v: UserFormValues) =>
      user
        ? unwrap(
            api.PATCH('/api/users/{userId}', {
              params: { path: { userId: user.id } },
              body: { name: v.name, roles: v.roles, managerId: v.managerId ?? null },
            }),
          )
        : unwrap(
            api.POST('/api/users', {
              body: {
                id: v.id,
                name: v.name,
                email: v.email,
                roles: v.roles,
                ...(v.managerId ? { managerId: v.managerId } : {}),
              },
            }),
          ),
    onSuccess: async (saved) => {
      message.success(user ? u.saved : u.created(saved.id));
      await queryClient.invalidateQueries({ queryKey: ['users'] });
      onClose();
    },
  });
  return (
    <Modal
      open
      title={user ? u.editTitle(user.id) : u.newUser}
      okText={user ? u.save : u.create}
      cancelText={t.cancel}
      okButtonProps={{ loading: save.isPending }}
      onOk={() => form.submit()}
      onCancel={onClose}
      destroyOnHidden
    >
      <Form<UserFormValues>
        form={form}
        layout="vertical"
        name="user"
        data-testid="user-form"
        initialValues={
          user ? { id: user.id, name: user.name, email: user.email, roles: user.roles, managerId: user.managerId } : {}
        }
        onFinish={(v) => save.mutate(v)}
      >
        <Form.Item
          label={u.id}
          name="id"
          extra={user ? undefined : u.idHelp}
          rules={[{ required: true }, { pattern: /^[a-z0-9][a-z0-9._-]{1,63}$/, message: u.idHelp }]}
        >
          <Input disabled={!!user} autoComplete="off" />
        </Form.Item>
        <Form.Item label={u.name} name="name" rules={[{ required: true, whitespace: true, max: 200 }]}>
          <Input autoComplete="off" />
        </Form.Item>
        <Form.Item label={u.email} name="email" rules={[{ required: true, type: 'email' }]}>
          <Input disabled={!!user} autoComplete="off" />
        </Form.Item>
        <Form.Item label={u.roles} name="roles" rules={[{ required: true, type: 'array', min: 1 }]}>
          <Select<Role[]> mode="multiple" options={ROLES.map((r) => ({ value: r, label: u.roleLabels[r] ?? r }))} />
        </Form.Item>
        <Form.Item label={u.manager} name="managerId">
          <Select allowClear showSearch placeholder={u.noManager} options={managers} />
        </Form.Item>
      </Form>
      {save.error ? <Refusal error={save.error} /> : null}
    </Modal>
  );
}

function DeactivateModal({ user, onClose }: { user: User; onClose(): void }) {
  const { t } = useI18n();
  const u = t.users;
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<{ reason?: string }>();
  const deactivate = useMutation({
    mutationFn: (reason: string | undefined) =>
      unwrap(
        api.POST('/api/users/{userId}/deactivate', {
          params: { path: { userId: user.id } },
          body: reason?.trim() ? { reason: reason.trim() } : {},
        }),
      ),
    onSuccess: async (done) => {
      message.success(u.deactivated(done.id, done.revokedTokenIds.length));
      await queryClient.invalidateQueries({ queryKey: ['users'] });
      await queryClient.invalidateQueries({ queryKey: ['tokens', user.id] });
      onClose();
    },
  });
  return (
    <Modal
      open
      title={u.deactivateTitle(user.id)}
      okText={u.deactivate}
      cancelText={t.cancel}
      okButtonProps={{ danger: true, loading: deactivate.isPending }}
      onOk={() => form.submit()}
      onCancel={onClose}
    >
      <Form form={form} name="deactivate" layout="vertical" onFinish={(v) => deactivate.mutate(v.reason)}>
        <Form.Item label={u.reason} name="reason" rules={[{ max: 500 }]}>
          <Input.TextArea rows={2} />
        </Form.Item>
      </Form>
      {deactivate.error ? <Refusal error={deactivate.error} /> : null}
    </Modal>
  );
}

/** A user's tokens: issue (the secret shown once), list, revoke. */
function TokensDrawer({ user, onClose }: { user: User; onClose(): void }) {
  const { t, when } = useI18n();
  const u = t.users;
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<{ label: string; expiresInDays?: number | null }>();
  const [issued, setIssued] = useState<IssuedToken | null>(null);
  const tokens = useQuery({
    queryKey: ['tokens', user.id],
    queryFn: () =>
      unwrap(
        api.GET('/api/users/{userId}/tokens', {
          params: { path: { userId: user.id }, query: { page: 1, pageSize: 100 } },
        }),
      ),
  });
  const issue = useMutation({
    mutationFn: (v: { label: string; expiresInDays?: number | null }) =>
      unwrap(
        api.POST('/api/users/{userId}/tokens', {
          params: { path: { userId: user.id } },
          body: { label: v.label, ...(v.expiresInDays ? { expiresInDays: v.expiresInDays } : {}) },
        }),
      ),
    onSuccess: async (token) => {
      setIssued(token);
      form.resetFields();
      await queryClient.invalidateQueries({ queryKey: ['tokens', user.id] });
    },
  });
  const revoke = useMutation({
    mutationFn: (tokenId: string) =>
      unwrap(api.POST('/api/tokens/{tokenId}/revoke', { params: { path: { tokenId } }, body: {} })),
    onSuccess: async () => {
      message.success(u.revoked);
      await queryClient.invalidateQueries({ queryKey: ['tokens', user.id] });
    },
  });
  const now = Date.now();
  const state = (token: ApiToken) =>
    token.revokedAt ? (
      <Tag color={INACTIVE_COLOUR}>{u.revoked}</Tag>
    ) : Date.parse(token.expiresAt) <= now ? (
      <Tag>{u.expired}</Tag>
    ) : (
      <Tag color={ACTIVE_COLOUR}>{u.valid}</Tag>
    );
  return (
    <Drawer open size="large" title={u.tokensOf(user.id)} onClose={onClose} data-testid="tokens-drawer">
      <Flex vertical gap={16}>
        <Form form={form} name="token" layout="inline" onFinish={(v) => issue.mutate(v)} data-testid="token-form">
          <Form.Item label={u.label} name="label" rules={[{ required: true, whitespace: true, max: 100 }]}>
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item label={u.expiresInDays} name="expiresInDays" tooltip={u.expiresHelp}>
            <InputNumber min={1} max={3650} precision={0} />
          </Form.Item>
          <Form.Item>
            <Button type="primary" htmlType="submit" loading={issue.isPending}>
              {u.issue}
            </Button>
          </Form.Item>
        </Form>
        {issue.error ? <Refusal error={issue.error} /> : null}
        {issued && (
          <Alert
            type="warning"
            showIcon
            closable={{ onClose: () => setIssued(null) }}
            title={u.issuedTitle}
            description={
              <Typography.Paragraph
                copyable={{ text: issued.token, tooltips: [u.copy, u.copied] }}
                style={{ margin: 0 }}
              >
                <code data-testid="issued-token">{issued.token}</code>
              </Typography.Paragraph>
            }
          />
        )}
        {revoke.error ? <Refusal error={revoke.error} /> : null}
        <Table<ApiToken>
          data-testid="tokens"
          rowKey="id"
          size="small"
          pagination={false}
          loading={tokens.isPending}
          dataSource={tokens.data?.items ?? []}
          locale={{ emptyText: <Typography.Text type="secondary">{u.noTokens}</Typography.Text> }}
          columns={[
            { title: u.label, dataIndex: 'label', key: 'label' },
            { title: u.issued, key: 'issued', render: (_, token) => when(token.createdAt) },
            { title: u.expires, key: 'expires', render: (_, token) => when(token.expiresAt) },
            { title: t.status, key: 'state', render: (_, token) => state(token) },
            {
              title: t.actions,
              key: 'actions',
              render: (_, token) =>
                token.revokedAt ? (
                  when(token.revokedAt)
                ) : (
                  <Popconfirm
                    title={u.revokeConfirm}
                    okText={u.revoke}
                    cancelText={t.cancel}
                    okButtonProps={{ danger: true }}
                    onConfirm={() => revoke.mutateAsync(token.id)}
                  >
                    <Button size="small" danger aria-label={`${u.revoke} ${token.label}`}>
                      {u.revoke}
                    </Button>
                  </Popconfirm>
                ),
            },
          ]}
        />
      </Flex>
    </Drawer>
  );
}
