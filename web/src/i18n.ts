// UI text in English and Korean. The chosen language is kept in localStorage;
// pages re-render their text through `onLanguageChange`.

const en = {
  appTitle: 'nslab',
  tagline: 'Linux networking labs, shared live in the browser.',
  createHeading: 'Start a new lab',
  template: 'Template',
  worldFile: 'or upload a world file (JSON)',
  displayName: 'Your display name',
  create: 'Create lab',
  creating: 'Creating…',
  joinHeading: 'Join a lab',
  joinLink: 'Lab link',
  join: 'Join',
  badLink: 'That is not a lab link (it should contain /labs/…#token=…).',
  language: 'Language',
  connecting: 'Connecting…',
  connected: 'Connected',
  offline: 'Offline — reconnecting…',
  closedDeleted: 'This lab was deleted by its owner.',
  closedReplaced: 'You opened this lab in another tab; this one stopped.',
  refused: 'The server refused the connection',
  participants: 'Participants',
  activity: 'Activity',
  noActivity: 'No commands yet.',
  topology: 'Topology',
  viewerNotice: 'You are a viewer: you see everything live but cannot type.',
  you: 'you',
  typing: 'typing…',
  invite: 'Invite',
  inviteEditor: 'Editor link',
  inviteViewer: 'Viewer link',
  copied: 'Copied',
  roleOwner: 'owner',
  roleEditor: 'editor',
  roleViewer: 'viewer',
  offlineRefused: 'not connected: the command was not sent',
  running: 'running',
  interrupted: 'interrupted',
  exit: 'exit',
  noAddress: 'no address',
  packetPath: 'Packets of',
  droppedAt: 'dropped at',
  fitDiagram: 'Fit diagram',
} as const;

export type TextKey = keyof typeof en;

const ko: Record<TextKey, string> = {
  appTitle: 'nslab',
  tagline: '브라우저에서 함께 하는 리눅스 네트워킹 실습.',
  createHeading: '새 실습 시작',
  template: '템플릿',
  worldFile: '또는 월드 파일 업로드 (JSON)',
  displayName: '표시 이름',
  create: '실습 만들기',
  creating: '만드는 중…',
  joinHeading: '실습 참여',
  joinLink: '실습 링크',
  join: '참여',
  badLink: '실습 링크가 아닙니다 (/labs/…#token=… 형식이어야 합니다).',
  language: '언어',
  connecting: '연결 중…',
  connected: '연결됨',
  offline: '연결 끊김 — 다시 연결하는 중…',
  closedDeleted: '소유자가 이 실습을 삭제했습니다.',
  closedReplaced: '다른 탭에서 이 실습을 열어 이 탭은 멈췄습니다.',
  refused: '서버가 연결을 거부했습니다',
  participants: '참여자',
  activity: '활동',
  noActivity: '아직 실행한 명령이 없습니다.',
  topology: '토폴로지',
  viewerNotice: '보기 전용 참여자입니다: 모든 변화를 실시간으로 보지만 입력할 수 없습니다.',
  you: '나',
  typing: '입력 중…',
  invite: '초대',
  inviteEditor: '편집자 링크',
  inviteViewer: '보기 전용 링크',
  copied: '복사됨',
  roleOwner: '소유자',
  roleEditor: '편집자',
  roleViewer: '보기 전용',
  offlineRefused: '연결되지 않음: 명령을 보내지 않았습니다',
  running: '실행 중',
  interrupted: '중단됨',
  exit: '종료 코드',
  noAddress: '주소 없음',
  packetPath: '패킷 경로 —',
  droppedAt: '버려진 곳:',
  fitDiagram: '전체 보기',
};

export type Language = 'en' | 'ko';
const TEXTS: Record<Language, Record<TextKey, string>> = { en, ko };
const STORAGE_KEY = 'nslab.language';

function initialLanguage(): Language {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored === 'en' || stored === 'ko') return stored;
  return navigator.language.startsWith('ko') ? 'ko' : 'en';
}

let current: Language = initialLanguage();
const listeners = new Set<() => void>();

export function t(key: TextKey): string {
  return TEXTS[current][key];
}

export function language(): Language {
  return current;
}

export function setLanguage(next: Language): void {
  current = next;
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
  for (const listener of listeners) listener();
}

export function onLanguageChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Shows `key`'s text in `node`, now and whenever the language changes. */
export function bindText<T extends HTMLElement>(node: T, key: TextKey): T {
  node.textContent = t(key);
  onLanguageChange(() => (node.textContent = t(key)));
  return node;
}

/** A language switcher: a labelled <select>. */
export function languageSelect(): HTMLElement {
  const label = document.createElement('label');
  label.className = 'language';
  const caption = document.createElement('span');
  const select = document.createElement('select');
  for (const [value, text] of [['en', 'English'], ['ko', '한국어']] as const) select.append(new Option(text, value));
  select.value = current;
  select.addEventListener('change', () => setLanguage(select.value as Language));
  const render = () => {
    caption.textContent = t('language');
    select.value = current;
  };
  render();
  onLanguageChange(render);
  label.append(caption, select);
  return label;
}
