/**
 * Roles from the handbooks (DOMAIN.md "Who uses it"). A user may hold several;
 * segregation of duties is enforced per case, not by role alone.
 */
export const ROLES = ['manager', 'approver', 'action_owner', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, { en: string; zh: string }> = {
  manager: { en: 'Operations / risk manager', zh: '运营/风控负责人' },
  approver: { en: 'Approver (risk, compliance, legal)', zh: '审批人' },
  action_owner: { en: 'Action owner', zh: '责任人' },
  auditor: { en: 'Auditor', zh: '内审/第三方审计' },
  admin: { en: 'Administrator', zh: '系统管理员' },
};

/** Who acts: the API authenticates the user and passes this into workflows. */
export interface Actor {
  userId: string;
  roles: Role[];
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function hasAnyRole(actor: Pick<Actor, 'roles'>, roles: readonly Role[]): boolean {
  return actor.roles.some((r) => roles.includes(r));
}

/**
 * Auditors read everything and change nothing: a user whose only role is
 * auditor may never call a mutating endpoint.
 */
export function isReadOnly(actor: Pick<Actor, 'roles'>): boolean {
  return actor.roles.every((r) => r === 'auditor');
}

/**
 * Where an unanswered task goes when its deadline passes. Escalation informs a
 * higher role; it does not hand them the decision, so the approver role (and
 * segregation of duties) still governs who may decide.
 */
export const ESCALATION_ROLE: Record<Role, Role> = {
  action_owner: 'manager',
  approver: 'manager',
  manager: 'admin',
  auditor: 'admin',
  admin: 'admin',
};
