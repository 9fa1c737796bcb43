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
  serverUnreachable: 'The server cannot be reached. Check your connection and try again.',
  language: 'Language',
  connecting: 'Connecting…',
  connected: 'Connected',
  offline: 'Offline — reconnecting…',
  closedDeleted: 'This lab was deleted by its owner.',
  closedReplaced: 'You opened this lab in another tab; this one stopped.',
  refused: 'The server refused the connection',
  backToStart: 'Start or join another lab',
  participants: 'Participants',
  activity: 'Activity',
  noActivity: 'No commands yet.',
  topology: 'Topology',
  topologyDiagram: 'Topology diagram: hosts, namespaces, devices and the cables between them',
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
  terminalLabel: 'Terminal on {host}',
  terminalKeys: 'Tab completes the line. Shift+Tab, or Escape then Tab, leaves the terminal.',
  running: 'running',
  interrupted: 'interrupted',
  exit: 'exit',
  noAddress: 'no address',
  packetPath: 'Packets of',
  droppedAt: 'dropped at',
  fitDiagram: 'Fit diagram',
  timeline: 'Timeline',
  timelineSlider: 'Step of the lab’s history',
  previousStep: 'Previous step',
  nextStep: 'Next step',
  timelineStep: 'Step {step} of {steps}',
  timelineStart: 'The lab as created',
  timelineClock: 'The clock moved on while commands ran',
  // Classes: the start page's forms, the instructor's dashboard, a student's lab.
  classStartHeading: 'Start a class',
  classMode: 'Students work',
  modeSolo: 'each in their own lab',
  modeGroup: 'in groups sharing a lab',
  groupSize: 'Group size',
  startClass: 'Start class',
  classJoinHeading: 'Join a class',
  joinCode: 'Join code',
  joinClass: 'Join class',
  dashboard: 'Instructor dashboard',
  copy: 'Copy',
  rotateCode: 'New code',
  revokeCode: 'Revoke',
  noJoinCode: 'No join code: nobody can join.',
  codeExpired: 'expired',
  codeExpires: 'expires',
  lockClass: 'Lock class',
  unlockClass: 'Unlock class',
  classLockedBadge: 'Locked',
  exportCsv: 'Export results (CSV)',
  messageText: 'Message to students',
  messageTo: 'To',
  everyone: 'Everyone',
  send: 'Send',
  sentTo: 'Delivered to connections:',
  students: 'Students',
  colStudent: 'Student',
  colDone: 'Tasks done',
  colLastCommand: 'Last command',
  colErrors: 'Errors in a row',
  colStuck: 'Stuck',
  colLab: 'Lab',
  sortBy: 'Sort by',
  taskDone: 'done',
  taskNotDone: 'not done',
  stuck: 'stuck',
  group: 'Group',
  openLab: 'Open',
  injectFault: 'Fault…',
  resetLab: 'Reset…',
  resetHeading: 'Reset the lab of',
  resetToStep: 'Reset to step {step}',
  resetToTemplate: 'Reset to the template',
  confirmReset: 'Reset this lab to the template? The work in it is lost.',
  confirmResetStep: 'Reset this lab to step {step} of its timeline? The work after it is lost.',
  noStudents: 'Nobody has joined yet: share the join code.',
  instructions: 'Instructions',
  tasks: 'Tasks',
  faultHeading: 'Inject a fault into',
  faultKind: 'Fault',
  fault_link_down: 'Link down',
  fault_route_removed: 'Route removed',
  fault_nat_removed: 'NAT rule removed',
  fault_forwarding_off: 'IP forwarding off',
  fault_wrong_address: 'Wrong address',
  faultHost: 'Host',
  faultNs: 'Namespace',
  faultDevice: 'Device',
  faultTo: 'Route',
  faultAddress: 'Address',
  faultNsOwn: '(the host itself)',
  faultRule: 'NAT rule',
  faultNoChoice: 'none here',
  inject: 'Inject',
  cancel: 'Cancel',
  live: 'Live',
  classLocked: 'Class locked: read-only',
  youDrive: 'Driver: you type',
  youNavigate: 'Navigator: {name} drives',
  driverIs: 'Driver: {name}',
  navigatorNotice: 'You are navigating: {name} drives this lab. Point at devices in the diagram for everyone to see, or ask {name} to hand over.',
  handOverTo: 'Hand over to {name}',
  handOverFailed: 'Could not hand over',
  instructorWatching: 'Instructor {name} is in your lab',
  instructorTyping: 'Instructor {name} is typing in your lab',
  makeDriver: 'Make driver',
  makeDriverOf: 'Make {name} the driver',
  messageFromInstructor: 'Message from {name}',
  dismiss: 'Dismiss',
  closedMoved: 'The instructor reset this lab: it goes on as a new lab.',
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
  serverUnreachable: '서버에 연결할 수 없습니다. 연결을 확인하고 다시 시도하세요.',
  language: '언어',
  connecting: '연결 중…',
  connected: '연결됨',
  offline: '연결 끊김 — 다시 연결하는 중…',
  closedDeleted: '소유자가 이 실습을 삭제했습니다.',
  closedReplaced: '다른 탭에서 이 실습을 열어 이 탭은 멈췄습니다.',
  refused: '서버가 연결을 거부했습니다',
  backToStart: '다른 실습을 시작하거나 참여하기',
  participants: '참여자',
  activity: '활동',
  noActivity: '아직 실행한 명령이 없습니다.',
  topology: '토폴로지',
  topologyDiagram: '토폴로지 다이어그램: 호스트, 네임스페이스, 장치와 그 사이의 케이블',
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
  terminalLabel: '{host} 터미널',
  terminalKeys: 'Tab 키는 줄을 자동 완성합니다. Shift+Tab, 또는 Esc 다음 Tab 키로 터미널에서 나갑니다.',
  running: '실행 중',
  interrupted: '중단됨',
  exit: '종료 코드',
  noAddress: '주소 없음',
  packetPath: '패킷 경로 —',
  droppedAt: '버려진 곳:',
  fitDiagram: '전체 보기',
  timeline: '타임라인',
  timelineSlider: '실습 기록의 단계',
  previousStep: '이전 단계',
  nextStep: '다음 단계',
  timelineStep: '{steps}단계 중 {step}단계',
  timelineStart: '처음 만든 상태',
  timelineClock: '명령이 실행되는 동안 시계가 흘렀습니다',
  classStartHeading: '수업 시작',
  classMode: '학생 실습 방식',
  modeSolo: '한 사람에 실습 하나',
  modeGroup: '모둠별로 실습 하나를 함께',
  groupSize: '모둠 인원',
  startClass: '수업 시작하기',
  classJoinHeading: '수업 참여',
  joinCode: '참여 코드',
  joinClass: '수업 참여하기',
  dashboard: '강사 대시보드',
  copy: '복사',
  rotateCode: '새 코드',
  revokeCode: '폐기',
  noJoinCode: '참여 코드 없음: 아무도 참여할 수 없습니다.',
  codeExpired: '만료됨',
  codeExpires: '만료',
  lockClass: '수업 잠그기',
  unlockClass: '수업 잠금 해제',
  classLockedBadge: '잠김',
  exportCsv: '결과 내보내기 (CSV)',
  messageText: '학생에게 보낼 메시지',
  messageTo: '받는 사람',
  everyone: '모두',
  send: '보내기',
  sentTo: '받은 연결 수:',
  students: '학생',
  colStudent: '학생',
  colDone: '완료한 과제',
  colLastCommand: '마지막 명령',
  colErrors: '연속 오류',
  colStuck: '막힘',
  colLab: '실습',
  sortBy: '정렬',
  taskDone: '완료',
  taskNotDone: '미완료',
  stuck: '막힘',
  group: '모둠',
  openLab: '열기',
  injectFault: '장애…',
  resetLab: '초기화…',
  resetHeading: '실습 초기화:',
  resetToStep: '{step}단계로 되돌리기',
  resetToTemplate: '템플릿 처음 상태로 초기화',
  confirmReset: '이 실습을 템플릿의 처음 상태로 되돌릴까요? 작업한 내용은 사라집니다.',
  confirmResetStep: '이 실습을 타임라인의 {step}단계로 되돌릴까요? 그 뒤의 작업은 사라집니다.',
  noStudents: '아직 아무도 참여하지 않았습니다: 참여 코드를 알려 주세요.',
  instructions: '실습 안내',
  tasks: '과제',
  faultHeading: '장애 주입 대상:',
  faultKind: '장애 종류',
  fault_link_down: '링크 내리기',
  fault_route_removed: '경로 삭제',
  fault_nat_removed: 'NAT 규칙 삭제',
  fault_forwarding_off: 'IP 포워딩 끄기',
  fault_wrong_address: '잘못된 주소',
  faultHost: '호스트',
  faultNs: '네임스페이스',
  faultDevice: '장치',
  faultTo: '경로',
  faultAddress: '주소',
  faultNsOwn: '(호스트 자체)',
  faultRule: 'NAT 규칙',
  faultNoChoice: '여기에는 없음',
  inject: '주입',
  cancel: '취소',
  live: '실시간',
  classLocked: '수업 잠김: 읽기 전용',
  youDrive: '운전자: 직접 입력',
  youNavigate: '안내자: {name} 님이 입력',
  driverIs: '운전자: {name}',
  navigatorNotice: '안내자입니다: 이 실습은 {name} 님이 입력합니다. 다이어그램에서 장치를 가리켜 모두에게 보여 주거나, {name} 님에게 넘겨 달라고 하세요.',
  handOverTo: '{name} 님에게 넘기기',
  handOverFailed: '넘기지 못했습니다',
  instructorWatching: '{name} 강사님이 실습에 들어와 있습니다',
  instructorTyping: '{name} 강사님이 실습에서 입력하고 있습니다',
  makeDriver: '운전자로 지정',
  makeDriverOf: '{name} 님을 운전자로 지정',
  messageFromInstructor: '{name} 님의 메시지',
  dismiss: '닫기',
  closedMoved: '강사가 이 실습을 초기화했습니다: 새 실습으로 이어집니다.',
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

/** Shows `key`'s text in an attribute of `node` (a label, a title), now and whenever the language changes. */
export function bindAttribute<T extends HTMLElement>(node: T, attribute: string, key: TextKey): T {
  node.setAttribute(attribute, t(key));
  onLanguageChange(() => node.setAttribute(attribute, t(key)));
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
