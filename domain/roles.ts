/**
 * Roles from the handbooks (DOMAIN.md "Who uses it"). A user may hold several;
 * segregation of duties is enforced per case, not by role alone.
 */
export const ROLES = [
  'manager',
  'risk',
  'compliance',
  'legal',
  'internal_audit',
  'action_owner',
  'auditor',
  'admin',
] as const;
export type Role = (typeof ROLES)[number];

/**
 * The functions that approve (finance §5.2, three lines of defence: the
 * business line is the first, risk control and compliance the second,
 * internal audit the independent third). Legal sits beside compliance. Four-eyes
 * on high risk takes its two approvers from two different functions.
 */
export const APPROVER_ROLES = ['risk', 'compliance', 'legal'] as const satisfies readonly Role[];
export type ApproverRole = (typeof APPROVER_ROLES)[number];

/** Who verifies rectification and results independently: never the business line that did the work. */
export const VERIFIER_ROLES = ['risk', 'compliance', 'internal_audit'] as const satisfies readonly Role[];

/** Roles that read every case: the second and third lines and auditors (finance §5.2, e-commerce §6.4). */
export const OVERSIGHT_ROLES = ['risk', 'compliance', 'internal_audit', 'auditor'] as const satisfies readonly Role[];

export const ROLE_LABELS: Record<Role, { en: string; zh: string }> = {
  manager: { en: 'Operations / risk manager', zh: '运营/风控负责人' },
  risk: { en: 'Risk control (second line)', zh: '风险管理' },
  compliance: { en: 'Compliance (second line)', zh: '合规' },
  legal: { en: 'Legal', zh: '法务' },
  internal_audit: { en: 'Internal audit (third line)', zh: '内部审计' },
  action_owner: { en: 'Action owner', zh: '责任人' },
  auditor: { en: 'Auditor (read-only)', zh: '审计查阅/第三方审计' },
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
 * higher role; it does not hand them the decision, so the approving function (and
 * segregation of duties) still governs who may decide.
 */
export const ESCALATION_ROLE: Record<Role, Role> = {
  action_owner: 'manager',
  risk: 'manager',
  compliance: 'manager',
  legal: 'manager',
  internal_audit: 'admin',
  manager: 'admin',
  auditor: 'admin',
  admin: 'admin',
};
