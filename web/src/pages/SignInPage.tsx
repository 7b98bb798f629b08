import { Button, Card, Flex, Form, Input, Typography } from 'antd';
import { useState, type ReactNode } from 'react';
import { signIn, type Session } from '../api/client';
import { useI18n } from '../i18n';
import { Refusal } from '../Refusal';

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
            <Button type="primary" htmlType="submit" loading={busy} block>
              {t.signIn}
            </Button>
          </Form>
        </Card>
      </Flex>
    </main>
  );
}
