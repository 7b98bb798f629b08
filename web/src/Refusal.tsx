import { Alert } from 'antd';
import { ApiFailure } from './api/client';
import { useI18n } from './i18n';

/** A refused call in plain words: the rule (error.reason), the API's message and its details. */
export function Refusal({ error, title }: { error: unknown; title?: string }) {
  const { t } = useI18n();
  if (!error) return null;
  const body =
    error instanceof ApiFailure
      ? error.body
      : { code: 'ERROR', message: error instanceof Error ? error.message : String(error), requestId: '' };
  // The rule's own code first; a bare 409 means the case is no longer where the caller saw it.
  const plain =
    (body.reason ? t.refusal[body.reason] : undefined) ??
    (body.code === 'CONFLICT' ? t.refusal.WRONG_STAGE : undefined);
  const details = Array.isArray(body.details)
    ? body.details.map((d) =>
        typeof d === 'object' && d && 'message' in d
          ? `${(d as { field?: string }).field ?? ''} ${(d as { message: string }).message}`.trim()
          : JSON.stringify(d),
      )
    : body.details !== undefined && body.details !== null
      ? [JSON.stringify(body.details)]
      : [];
  return (
    <Alert
      type="error"
      showIcon
      role="alert"
      data-testid="refusal"
      title={title ?? plain ?? body.message}
      description={
        <div>
          {plain && title && <p>{plain}</p>}
          <p>
            {body.reason ? <code>{body.reason}</code> : null} {body.message}
          </p>
          {details.length > 0 && (
            <ul>
              {details.map((d, i) => (
                <li key={i}>{d}</li>
              ))}
            </ul>
          )}
          {body.requestId && (
            <small>
              {t.requestId}: {body.requestId}
            </small>
          )}
        </div>
      }
    />
  );
}
