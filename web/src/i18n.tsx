/**
 * The console's two languages. The choice is remembered in localStorage;
 * dates are shown in the browser's own time zone.
 */
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';
import { PROCESS_LABELS } from './api/processes';

export type Lang = 'zh-CN' | 'en-US';
const STORAGE_KEY = 'governance.console.lang';

const en = {
  appTitle: 'Governance console',
  signIn: 'Sign in',
  signInTitle: 'Sign in to the governance console',
  login: 'User id or e-mail',
  password: 'Password',
  signOut: 'Sign out',
  inbox: 'My inbox',
  cases: 'Cases',
  readOnly: 'Read-only',
  toDecide: 'Awaiting my decision',
  toDo: 'My to-dos',
  toVerify: 'To verify',
  nothing: 'Nothing here',
  title: 'Title',
  case: 'Case',
  due: 'Due',
  overdue: 'Overdue',
  status: 'Status',
  stage: 'Stage',
  process: 'Process',
  actions: 'Actions',
  approve: 'Approve',
  reject: 'Reject',
  decide: 'Decide',
  comment: 'Comment',
  commentHelp: 'Why you decide so (kept in the audit log)',
  confirm: 'Confirm',
  cancel: 'Cancel',
  decided: 'Decision recorded',
  refused: 'The decision was refused',
  allProcesses: 'All processes',
  allStatuses: 'All statuses',
  open: 'Open',
  closed: 'Closed',
  created: 'Created',
  owner: 'Owner',
  initiator: 'Initiator',
  outcome: 'Outcome',
  riskLevel: 'Risk level',
  tasks: 'Tasks',
  rectificationItems: 'Rectification items',
  timeline: 'Audit timeline',
  evidence: 'Evidence',
  temporalUi: 'History in Temporal UI',
  actor: 'Actor',
  reason: 'Reason',
  votes: 'Votes',
  assignee: 'Assignee',
  candidates: 'Candidate roles',
  fileName: 'File',
  uploadedBy: 'Uploaded by',
  size: 'Size',
  language: 'Language',
  total: (n: number) => `${n} cases`,
  notFound: 'Not found, or not yours to read',
  requestId: 'Request id',
  back: 'Back',
  refusal: {
    SEGREGATION_OF_DUTIES: 'Segregation of duties: whoever started or owns a case may not decide it.',
    FOUR_EYES: 'Four eyes: this case needs a second approver; you have already voted.',
    WRONG_STAGE: 'The case has moved on: it no longer awaits this decision.',
    ROLE_NOT_PERMITTED: 'Your role may not take this decision.',
    CSRF_TOKEN_INVALID: 'Your session’s security token is missing: reload the page.',
    SESSION_EXPIRED: 'Your session has ended: sign in again.',
    ACCOUNT_LOCKED: 'This account is locked after too many wrong passwords.',
    WRONG_PASSWORD: 'Wrong user id or password.',
  } as Record<string, string>,
};

type Messages = typeof en;

const zh: Messages = {
  appTitle: '治理平台控制台',
  signIn: '登录',
  signInTitle: '登录治理平台控制台',
  login: '用户名或邮箱',
  password: '密码',
  signOut: '退出登录',
  inbox: '我的待办',
  cases: '案件',
  readOnly: '只读',
  toDecide: '待我审批',
  toDo: '我的任务',
  toVerify: '待验证',
  nothing: '暂无内容',
  title: '标题',
  case: '案件',
  due: '截止时间',
  overdue: '已逾期',
  status: '状态',
  stage: '阶段',
  process: '流程',
  actions: '操作',
  approve: '批准',
  reject: '驳回',
  decide: '审批',
  comment: '意见',
  commentHelp: '审批理由（记入审计日志）',
  confirm: '确认',
  cancel: '取消',
  decided: '审批已记录',
  refused: '审批被拒绝',
  allProcesses: '全部流程',
  allStatuses: '全部状态',
  open: '进行中',
  closed: '已关闭',
  created: '创建时间',
  owner: '负责人',
  initiator: '发起人',
  outcome: '结果',
  riskLevel: '风险等级',
  tasks: '任务',
  rectificationItems: '整改项',
  timeline: '审计时间线',
  evidence: '证据',
  temporalUi: '在 Temporal UI 查看历史',
  actor: '操作人',
  reason: '理由',
  votes: '投票',
  assignee: '处理人',
  candidates: '候选角色',
  fileName: '文件',
  uploadedBy: '上传人',
  size: '大小',
  language: '语言',
  total: (n: number) => `共 ${n} 个案件`,
  notFound: '案件不存在，或您无权查看',
  requestId: '请求编号',
  back: '返回',
  refusal: {
    SEGREGATION_OF_DUTIES: '职责分离：案件的发起人或负责人不得审批本案件。',
    FOUR_EYES: '四眼原则：本案件需要另一位审批人，您已投过票。',
    WRONG_STAGE: '案件已进入下一阶段，不再等待此项审批。',
    ROLE_NOT_PERMITTED: '您的角色无权作出此项审批。',
    CSRF_TOKEN_INVALID: '会话安全令牌缺失，请刷新页面。',
    SESSION_EXPIRED: '会话已结束，请重新登录。',
    ACCOUNT_LOCKED: '密码错误次数过多，账户已被锁定。',
    WRONG_PASSWORD: '用户名或密码错误。',
  },
};

const MESSAGES: Record<Lang, Messages> = { 'en-US': en, 'zh-CN': zh };

function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'zh-CN' || saved === 'en-US') return saved;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en-US';
}

interface I18n {
  lang: Lang;
  t: Messages;
  setLang(lang: Lang): void;
  /** A date and time in the browser's time zone. */
  when(iso: string | null | undefined): string;
  processLabel(process: string): string;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const value = useMemo<I18n>(() => {
    dayjs.locale(lang === 'zh-CN' ? 'zh-cn' : 'en');
    document.documentElement.lang = lang;
    return {
      lang,
      t: MESSAGES[lang],
      setLang(next) {
        localStorage.setItem(STORAGE_KEY, next);
        setLangState(next);
      },
      when: (iso) => (iso ? dayjs(iso).format(lang === 'zh-CN' ? 'YYYY年M月D日 HH:mm' : 'D MMM YYYY HH:mm') : '—'),
      processLabel: (process) => {
        const label = PROCESS_LABELS[process];
        return label ? (lang === 'zh-CN' ? label.zh : label.en) : process.replace(/_/g, ' ');
      },
    };
  }, [lang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}
