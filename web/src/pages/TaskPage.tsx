import { useQuery } from '@tanstack/react-query';
import { Card } from 'antd';
import { Navigate, useParams } from 'react-router';
import { api, unwrap } from '../api/client';
import { Refusal } from '../Refusal';

/** A task's link (what reminder mails point at): its case page, where the task is. */
export function TaskPage() {
  const { taskId = '' } = useParams();
  const task = useQuery({
    queryKey: ['task', taskId],
    queryFn: () => unwrap(api.GET('/api/tasks/{taskId}', { params: { path: { taskId } } })),
  });
  if (task.error) return <Refusal error={task.error} />;
  if (!task.data) return <Card loading />;
  return <Navigate to={`/cases/${encodeURIComponent(task.data.caseId)}`} replace />;
}
