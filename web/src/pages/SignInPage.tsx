import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Divider, Flex, Form, Input, Typography } from 'antd';
import { useEffect, useState, type ReactNode } from 'react';
import { signIn, type Session } from '../api/client';
import { useI18n } from '../i18n';
import { Refusal } from '../Refusal';

/** The ways this deployment offers to sign in (api/oidc.ts): the password always, an identity provider where configured. */
interface SignInOptions {
  password: boolean;
  oidc: { name: string; loginUrl: string } | null;
}

async function signInOptions(): Promise<SignInOptions> {
  const res = await fetch('/console/auth/options', { credentials: 'same-origin' });
  return res.ok ? ((await res.json()) as SignInOptions) : { password: true, oidc: null };
}

/**
 * Why a sign-in through the identity provider was refused: the callback
 * sends the browser back with `?signInError=<reason>`.
 */
function signInErrorOfAddress(): string | null {
  const reason = new URL(window.location.href).searchParams.get('signInError');
  if (reason === null) return null;
  return /^[A-Z_]{1,64}$/.test(reason) ? reason : 'OIDC_FAILED';
}

export function SignInPage({
  onSignedIn,
  languageSwitch,
}: {
  onSignedIn(session: Session): void;
  languageSwitch: ReactNode;
}) {
  const { t } = useI18n();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [providerError] = useState(signInErrorOfAddress);
  // Shown once: taken off the address so that a reload does not show it again.
  useEffect(() => {
    const url = new URL(window.location.href);
    if (!url.searchParams.has('signInError')) return;
    url.searchParams.delete('signInError');
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
  }, []);
  const options = useQuery({ queryKey: ['signInOptions'], queryFn: signInOptions, staleTime: Infinity });
  const oidc = options.data?.oidc ?? null;
  return (
    <main>
      <Flex justify="center" align="center" style={{ minHeight: '100vh', background: '#f0f2f5' }}>
        <Card style={{ width: 400 }}>
          <Flex justify="space-between" align="center" style={{ marginBottom: 16 }}>
            <Typography.Title level={1} style={{ fontSize: 20, margin: 0 }}>
              {t.signInTitle}
            </Typography.Title>
          </Flex>
          <div style={{ marginBottom: 16 }}>{languageSwitch}</div>
          {providerError ? (
            <Alert
              type="error"
              showIcon
              role="alert"
              data-testid="sign-in-error"
              style={{ marginBottom: 16 }}
              title={t.refusal[providerError] ?? t.refusal.OIDC_FAILED}
              description={<code>{providerError}</code>}
            />
          ) : null}
          {oidc ? (
            <>
              <Button type="primary" block href={oidc.loginUrl} data-testid="sign-in-oidc">
                {t.signInWith(oidc.name)}
              </Button>
              <Divider plain>{t.orWithPassword}</Divider>
            </>
          ) : null}
          <Form
            layout="vertical"
            onFinish={async (values: { login: string; password: string }) => {
              setBusy(true);
              setError(null);
              try {
                onSignedIn(await signIn(values.login.trim(), values.password));
              } catch (err) {
                setError(err);
              } finally {
                setBusy(false);
              }
            }}
          >
            <Form.Item label={t.login} name="login" rules={[{ required: true }]}>
              <Input id="login" autoComplete="username" />
            </Form.Item>
            <Form.Item label={t.password} name="password" rules={[{ required: true }]}>
              <Input.Password id="password" autoComplete="current-password" />
            </Form.Item>
            {error ? (
              <div style={{ marginBottom: 16 }}>
                <Refusal error={error} />
              </div>
            ) : null}
            <Button type={oidc ? 'default' : 'primary'} htmlType="submit" loading={busy} block>
              {t.signIn}
            </Button>
          </Form>
        </Card>
      </Flex>
    </main>
  );
}
