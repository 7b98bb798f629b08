/**
 * "Start a case" (issue 13 §4): the processes the signed-in user may start,
 * each with its form (forms/startForms.ts). A form posts with an
 * Idempotency-Key (one per distinct body: a double click or a retry of the
 * same body replays the first answer; a corrected body is a new request),
 * shows a refusal's message under the field it names (error.details[].field)
 * and opens the new case on success.
 */
import { useQuery } from '@tanstack/react-query';
import {
  AutoComplete,
  Button,
  Card,
  DatePicker,
  Flex,
  Form,
  Input,
  InputNumber,
  Menu,
  Result,
  Select,
  Typography,
  type FormInstance,
} from 'antd';
import dayjs from 'dayjs';
import { useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ApiFailure, unwrap } from '../api/client';
import { START_FORMS, type FieldSpec, type StartFormSpec } from '../forms/startForms';
import { useIdempotencyKeys } from '../idempotency';
import { useI18n } from '../i18n';
import { Refusal } from '../Refusal';
import { useSession } from '../session';

/** The forms this user may use: the route's roles, and nothing for a read-only auditor. */
export function useStartForms(): StartFormSpec[] {
  const { session, readOnly } = useSession();
  if (readOnly) return [];
  return START_FORMS.filter((f) => f.roles === null || f.roles.some((r) => session.user.roles.includes(r)));
}

export function StartPage() {
  const { t } = useI18n();
  const forms = useStartForms();
  const navigate = useNavigate();
  const { form: formId } = useParams();
  const spec = forms.find((f) => f.id === formId) ?? forms[0];
  return (
    <Flex vertical gap={16}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
        {t.start.title}
      </Typography.Title>
      {!spec ? (
        <Result status="info" title={t.start.none} />
      ) : (
        <Flex gap={24} align="flex-start" wrap>
          <nav aria-label={t.start.processes} style={{ minWidth: 220 }}>
            <Menu
              data-testid="start-processes"
              mode="inline"
              selectedKeys={[spec.id]}
              onClick={({ key }) => navigate(`/start/${key}`)}
              items={forms.map((f) => ({ key: f.id, label: t.start.forms[f.id] ?? f.id }))}
            />
          </nav>
          <Card
            style={{ flex: 1, minWidth: 360 }}
            title={<h2 style={{ fontSize: 16, margin: 0 }}>{t.start.forms[spec.id] ?? spec.id}</h2>}
          >
            {/* A new form (fresh values and keys) per process. */}
            <StartForm key={spec.id} spec={spec} />
          </Card>
        </Flex>
      )}
    </Flex>
  );
}

/** Form values as the API takes them: dates as ISO instants, empty inputs and empty groups left out. */
function clean(value: unknown): unknown {
  if (value === null || value === undefined || value === '') return undefined;
  if (dayjs.isDayjs(value)) return value.toISOString();
  if (Array.isArray(value)) return value.map(clean).filter((v) => v !== undefined);
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => [k, clean(v)] as const)
      .filter(([, v]) => v !== undefined);
    return entries.length ? Object.fromEntries(entries) : undefined;
  }
  return value;
}

/** A refusal's field (`body.kpis.0.key`) as the form's field name, if the form shows it. */
function formName(spec: StartFormSpec, field: string): (string | number)[] | null {
  const path = field.replace(/^(body|param)\./, '').split('.');
  const alias = spec.errorAliases?.[path.join('.')];
  const name = (alias ?? path).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const shown = spec.fields.some((f) =>
    f.kind === 'list' ? f.name[0] === name[0] : f.name.join('.') === name.join('.'),
  );
  return shown ? name : null;
}

function StartForm({ spec }: { spec: StartFormSpec }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const [form] = Form.useForm();
  const [error, setError] = useState<unknown>(null);
  const [started, setStarted] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  // One Idempotency-Key per distinct body: the same body sent again is the same request.
  const keyFor = useIdempotencyKeys();
  const initialValues = useMemo(() => initialOf(spec.fields), [spec]);

  async function onFinish(values: Record<string, unknown>) {
    setError(null);
    setSending(true);
    try {
      const result = await spec.submit((clean(values) ?? {}) as Record<string, unknown>, keyFor);
      if (result.caseId) navigate(`/cases/${encodeURIComponent(result.caseId)}`);
      else setStarted(result.key ?? '');
    } catch (err) {
      setError(err);
      if (err instanceof ApiFailure && Array.isArray(err.body.details)) {
        const fields = (err.body.details as Array<{ field?: unknown; message?: unknown }>).flatMap((d) => {
          const name = typeof d.field === 'string' ? formName(spec, d.field) : null;
          return name ? [{ name, errors: [String(d.message ?? err.body.message)] }] : [];
        });
        form.setFields(fields);
        if (fields[0]) form.scrollToField(fields[0].name, { block: 'center' });
      }
    } finally {
      setSending(false);
    }
  }

  if (started !== null)
    return (
      <Result
        status="success"
        data-testid="start-done"
        title={t.start.recorded}
        subTitle={<code>{started}</code>}
        extra={<Button onClick={() => (form.resetFields(), setStarted(null))}>{t.start.another}</Button>}
      />
    );
  return (
    <Form
      form={form}
      name={`start-${spec.id}`}
      data-testid={`start-form-${spec.id}`}
      layout="vertical"
      initialValues={initialValues}
      onFinish={onFinish}
      scrollToFirstError
      style={{ maxWidth: 720 }}
    >
      {spec.fields.map((field) => (
        <Field key={field.name.join('.')} field={field} form={form} />
      ))}
      {error ? (
        <div style={{ marginBottom: 16 }}>
          <Refusal error={error} title={t.start.refused} />
        </div>
      ) : null}
      <Button type="primary" htmlType="submit" loading={sending}>
        {t.start.submit}
      </Button>
    </Form>
  );
}

function initialOf(fields: readonly FieldSpec[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const f of fields) {
    const value = f.kind === 'list' ? Array.from({ length: f.min ?? 1 }, () => initialOf(f.fields)) : f.initial;
    if (value === undefined) continue;
    let at = values;
    for (const part of f.name.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[f.name[f.name.length - 1]!] = value;
  }
  return values;
}

function Field({ field, form, list }: { field: FieldSpec; form: FormInstance; list?: number }) {
  const { t } = useI18n();
  const name = list === undefined ? [...field.name] : [list, ...field.name];
  const label = t.start.fields[field.label as keyof typeof t.start.fields] ?? field.label;
  const rules = [
    ...(field.required ? [{ required: true, message: t.start.required(label) }] : []),
    ...(field.kind === 'text' && field.pattern ? [{ pattern: field.pattern, message: t.start.pattern }] : []),
    ...(field.kind === 'json'
      ? [{ validator: (_: unknown, v: unknown) => jsonObjectProblem(v, t.start.jsonObject) }]
      : []),
  ];
  // A refusal shown under a field goes once the field is changed.
  const clearError = () => form.setFields([{ name, errors: [] }]);
  if (field.kind === 'list') return <ListField field={field} form={form} label={label} />;
  const help = t.start.help[field.label as keyof typeof t.start.help];
  return (
    <Form.Item name={name} label={label} rules={rules} extra={help} validateTrigger="onBlur">
      {field.kind === 'text' ? (
        <Input maxLength={field.max} onChange={clearError} />
      ) : field.kind === 'textarea' || field.kind === 'json' ? (
        <Input.TextArea maxLength={field.max} autoSize={{ minRows: 2, maxRows: 6 }} onChange={clearError} />
      ) : field.kind === 'select' ? (
        <Select
          allowClear={!field.required}
          options={field.options.map((o) => ({ value: o, label: t.start.options[o] ?? o.replace(/_/g, ' ') }))}
          onChange={clearError}
        />
      ) : field.kind === 'integer' || field.kind === 'number' ? (
        <InputNumber
          style={{ width: '100%' }}
          min={field.min}
          max={field.max}
          precision={field.kind === 'integer' ? 0 : undefined}
          onChange={clearError}
        />
      ) : field.kind === 'datetime' ? (
        <DatePicker showTime style={{ width: '100%' }} onChange={clearError} />
      ) : field.kind === 'user' ? (
        <UserPicker onChange={clearError} />
      ) : (
        <SupplierPicker onChange={clearError} />
      )}
    </Form.Item>
  );
}

function ListField({
  field,
  form,
  label,
}: {
  field: Extract<FieldSpec, { kind: 'list' }>;
  form: FormInstance;
  label: string;
}) {
  const { t } = useI18n();
  return (
    <Form.List name={[...field.name]}>
      {(items, { add, remove }, { errors }) => (
        <fieldset style={{ border: 'none', padding: 0, margin: '0 0 16px' }}>
          <legend style={{ fontSize: 14, marginBottom: 8 }}>{label}</legend>
          <Flex vertical gap={8}>
            {items.map((item, i) => (
              <Card
                key={item.key}
                size="small"
                title={`${label} ${i + 1}`}
                extra={
                  items.length > (field.min ?? 0) ? (
                    <Button size="small" onClick={() => remove(item.name)}>
                      {t.start.remove}
                    </Button>
                  ) : null
                }
              >
                {field.fields.map((sub) => (
                  <Field key={sub.name.join('.')} field={sub} form={form} list={item.name} />
                ))}
              </Card>
            ))}
            <Button onClick={() => add(initialOf(field.fields))}>
              {t.start.add} {label}
            </Button>
            <Form.ErrorList errors={errors} />
          </Flex>
        </fieldset>
      )}
    </Form.List>
  );
}

/** A user id, picked from the users the caller may list (managers); typed when the list is not theirs. */
function UserPicker(props: { id?: string; value?: string; onChange?: (v: string) => void }) {
  const users = useQuery({
    queryKey: ['users', 'picker'],
    queryFn: () => unwrap(api.GET('/api/users', { params: { query: { pageSize: 100 } } })),
    retry: false,
    staleTime: 60_000,
  });
  const options = (users.data?.items ?? [])
    .filter((u) => u.active)
    .map((u) => ({ value: u.id, label: `${u.name} (${u.id})` }));
  return (
    <AutoComplete
      {...props}
      options={options}
      filterOption={(input, option) =>
        String(option?.label ?? '')
          .toLowerCase()
          .includes(input.toLowerCase())
      }
    />
  );
}

/** A supplier, searched by name or credit code in the register. */
function SupplierPicker(props: { id?: string; value?: string; onChange?: (v: string) => void }) {
  const [q, setQ] = useState('');
  const suppliers = useQuery({
    queryKey: ['start-suppliers', q],
    queryFn: () => unwrap(api.GET('/api/suppliers', { params: { query: { q: q || undefined, limit: 20 } } })),
  });
  return (
    <Select
      {...props}
      showSearch={{ filterOption: false, onSearch: setQ }}
      options={(suppliers.data?.items ?? []).map((s) => ({ value: s.id, label: `${s.name} (${s.id})` }))}
    />
  );
}

/** A JSON field's value must be an object: the rule rejects anything else with `message`. */
async function jsonObjectProblem(value: unknown, message: string): Promise<void> {
  if (value === undefined || value === null || value === '') return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(value));
  } catch {
    throw new Error(message);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(message);
}
