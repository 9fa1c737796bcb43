// One terminal tab: xterm.js with a bash-like line editor. Lines run on the
// server in the participant's terminal on that host; output streams back.
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import type { ServerMessage, TerminalState } from '../../shared/protocol';
import type { LabConnection } from './connection';
import { bindText, onLanguageChange, t } from './i18n';

interface Running {
  id: string;
  line: string;
  /** Characters of output already shown; a retry after a reconnect resends them, so they are skipped. */
  printed: number;
  skip: number;
}

export interface ShellOptions {
  connection: LabConnection;
  host: string;
  terminal: string;
  canType: boolean;
  nextId(): string;
  /** The words that could complete the line typed so far, in the terminal's namespace (null: the host's own). */
  completions(before: string, ns: string | null): string[];
  onTyping(typing: boolean): void;
  onNamespace(ns: string | null): void;
}

const RED = '\x1b[31m';
const RESET = '\x1b[0m';
const HIDE_CURSOR = '\x1b[?25l';

/** Hangul, CJK and fullwidth forms take two cells of the terminal. */
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/g;

/** How many cells of the terminal a text takes. */
function cells(text: string): number {
  return text.length + (text.match(WIDE)?.length ?? 0);
}

export class Shell {
  readonly element = document.createElement('div');
  private readonly term: Terminal;
  private readonly fitAddon = new FitAddon();
  private line = '';
  private cursor = 0;
  private history: string[] = [];
  /** Position in history while browsing with ↑/↓; history.length means the line being typed. */
  private historyIndex = 0;
  private draft = '';
  private ns: string | null = null;
  private running: Running | null = null;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  /** The cursor is not at the start of a line: the next prompt needs a newline first. */
  private midLine = false;
  /** Where the terminal's cursor is while a line is edited, in cells from the start of the prompt: a long line wraps onto more rows. */
  private shown = 0;
  /** Input that arrived while a command ran (typed ahead, or the lines of a paste after the first): it is taken at the next prompt, as a shell would. */
  private typeahead: string[] = [];
  /** The lab is closed for good: nothing more is typed or sent. */
  private closed = false;
  /** Escape was the last key: a Tab now leaves the terminal instead of completing. */
  private escaped = false;

  constructor(private readonly options: ShellOptions) {
    this.element.className = 'shell';
    this.term = new Terminal({
      convertEol: true,
      cursorBlink: options.canType,
      cursorInactiveStyle: options.canType ? 'outline' : 'none',
      disableStdin: !options.canType,
      fontFamily: '"DejaVu Sans Mono", "Noto Sans Mono CJK KR", monospace',
      fontSize: 14,
      lineHeight: 1.15,
      scrollback: 5000,
      theme: { background: '#111418', foreground: '#d8dee9' },
    });
    this.term.loadAddon(this.fitAddon);
    this.term.open(this.element);
    this.term.attachCustomKeyEventHandler((event) => this.browserKey(event));
    this.describeInput();
    this.term.onData((data) => this.input(data));
    // Nobody types here: no cursor pretends otherwise.
    if (options.canType) this.prompt();
    else this.term.write(HIDE_CURSOR);
  }

  /** Names the terminal's input after its host and says how the keyboard gets out of it. */
  private describeInput(): void {
    const input = this.term.textarea;
    if (!input) return;
    const keys = bindText(document.createElement('span'), this.options.canType ? 'terminalKeys' : 'viewerNotice');
    keys.id = `${this.options.terminal}-keys`;
    keys.className = 'visually-hidden';
    this.element.append(keys);
    input.setAttribute('aria-describedby', keys.id);
    const name = () => input.setAttribute('aria-label', t('terminalLabel').replace('{host}', this.options.host));
    name();
    onLanguageChange(name);
  }

  get id(): string {
    return this.options.terminal;
  }

  /** Takes the server's record of this terminal: its namespace and history survive reconnects. */
  restore(state: TerminalState): void {
    this.history = [...state.history];
    this.historyIndex = this.history.length;
    if (state.ns !== this.ns) {
      this.setNamespace(state.ns);
      if (!this.running && this.options.canType) this.redraw();
    }
  }

  /** After a reconnect, asks again for a command that was running: the server answers from its log and never runs it twice. */
  resume(): void {
    const running = this.running;
    if (!running) return;
    running.skip = running.printed;
    this.options.connection.send({ type: 'exec', id: running.id, terminal: this.options.terminal, host: this.options.host, line: running.line });
  }

  owns(id: string): boolean {
    return this.running?.id === id;
  }

  receive(message: ServerMessage): void {
    const running = this.running;
    if (!running || !('id' in message) || message.id !== running.id) return;
    if (message.type === 'output') {
      const data = message.data.slice(Math.min(running.skip, message.data.length));
      running.skip -= message.data.length - data.length;
      running.printed += data.length;
      if (data) this.midLine = !data.endsWith('\n');
      this.term.write(data);
    } else if (message.type === 'exit') {
      this.running = null;
      this.setNamespace(message.ns);
      this.prompt();
    } else if (message.type === 'error') {
      this.running = null;
      this.term.write(`${RED}nslab: ${message.message}${RESET}\n`);
      this.prompt();
    }
  }

  fit(): void {
    if (this.element.offsetParent !== null) this.fitAddon.fit();
  }

  focus(): void {
    this.term.focus();
  }

  /** Ends the session for good (the lab was deleted, or opened elsewhere): says why and takes no more input. */
  close(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.typeahead = [];
    this.term.options.disableStdin = true;
    this.term.options.cursorBlink = false;
    this.term.options.cursorInactiveStyle = 'none';
    this.term.write(`\r\n${RED}nslab: ${why}${RESET}\n${HIDE_CURSOR}`);
  }

  /** A line of text that is not part of the session (notices), in grey. */
  notice(text: string): void {
    this.term.write(`\x1b[90m${text}${RESET}\n`);
  }

  private setNamespace(ns: string | null): void {
    this.ns = ns;
    this.options.onNamespace(ns);
  }

  private promptText(): string {
    const ns = this.ns ? `(${this.ns}) ` : '';
    return `${ns}\x1b[1;32mroot@${this.options.host}${RESET}:\x1b[1;34m~${RESET}# `;
  }

  private prompt(): void {
    this.line = '';
    this.cursor = 0;
    this.historyIndex = this.history.length;
    this.term.write((this.midLine ? '\n' : '') + this.promptText());
    this.midLine = false;
    this.shown = this.promptWidth();
    while (this.typeahead.length > 0 && !this.running) this.input(this.typeahead.shift()!);
  }

  private promptWidth(): number {
    return cells(this.promptText().replace(/\x1b\[[\d;]*m/g, ''));
  }

  /** The escape codes that move the cursor to `cell` of the prompt and line (from where it is), over wrapped rows. */
  private cursorTo(cell: number): string {
    const cols = this.term.cols;
    const rows = Math.floor(cell / cols) - Math.floor(this.shown / cols);
    this.shown = cell;
    return `\r${rows < 0 ? `\x1b[${-rows}A` : rows > 0 ? `\x1b[${rows}B` : ''}${cell % cols > 0 ? `\x1b[${cell % cols}C` : ''}`;
  }

  /** After text that ends on a row's last cell, the terminal waits to wrap: going to the next row now keeps `shown` true. */
  private wrapped(): string {
    return this.shown > 0 && this.shown % this.term.cols === 0 ? '\r\n' : '';
  }

  /** Rewrites the prompt and the line, from the prompt's first row, and puts the cursor where it belongs. */
  private redraw(): void {
    const start = this.cursorTo(0);
    this.shown = this.promptWidth() + cells(this.line);
    this.term.write(`${start}\x1b[J${this.promptText()}${this.line}${this.wrapped()}${this.cursorTo(this.promptWidth() + cells(this.line.slice(0, this.cursor)))}`);
  }

  /** Moves the cursor past the end of the line, as before anything is written below it. */
  private toLineEnd(): string {
    return this.cursorTo(this.promptWidth() + cells(this.line));
  }

  /**
   * Keys the browser handles instead of the terminal (false): Ctrl+V pastes
   * and Ctrl+C copies a selection, as elsewhere on the page; Shift+Tab, or
   * Escape then Tab, moves the focus on, so the keyboard is never trapped
   * (and any Tab where nothing is typed).
   */
  private browserKey(event: KeyboardEvent): boolean {
    // By key code, as the terminal reads Ctrl keys: the same under any layout or input method.
    const ctrl = event.ctrlKey && !event.shiftKey && !event.altKey && !event.metaKey ? String.fromCharCode(event.keyCode) : '';
    const completes = this.options.canType && !this.closed && !event.shiftKey && !this.escaped;
    const copies = ctrl === 'C' && this.term.hasSelection();
    const browser = (event.key === 'Tab' && !completes) || ctrl === 'V' || copies;
    if (event.type === 'keydown') this.escaped = event.key === 'Escape';
    // Once copied, the selection goes: the next Ctrl+C interrupts, as a ping left running needs.
    if (copies && event.type === 'keydown') setTimeout(() => this.term.clearSelection());
    return !browser;
  }

  private input(data: string): void {
    if (!this.options.canType || this.closed) return;
    if (data === '\x03') return this.interrupt();
    if (data === '\x0c') {
      this.term.write('\x1b[H\x1b[2J');
      this.shown = 0;
      if (!this.running) this.redraw();
      return;
    }
    if (this.running) {
      this.typeahead.push(data);
      return;
    }
    this.typing();
    switch (data) {
      case '\r':
        return this.enter();
      case '\x7f':
      case '\b':
        if (this.cursor > 0) this.edit(this.line.slice(0, this.cursor - 1) + this.line.slice(this.cursor), this.cursor - 1);
        return;
      // Ctrl+D on an empty line leaves a namespace's shell, as bash does at end of input; otherwise it deletes like Delete.
      case '\x04':
        if (this.line !== '') return this.edit(this.line.slice(0, this.cursor) + this.line.slice(this.cursor + 1), this.cursor);
        if (this.ns === null) return;
        this.edit('exit', 4);
        return this.enter();
      case '\x1b[3~':
        return this.edit(this.line.slice(0, this.cursor) + this.line.slice(this.cursor + 1), this.cursor);
      case '\x1b[A':
        return this.browse(-1);
      case '\x1b[B':
        return this.browse(1);
      case '\x1b[D':
        return this.edit(this.line, Math.max(0, this.cursor - 1));
      case '\x1b[C':
        return this.edit(this.line, Math.min(this.line.length, this.cursor + 1));
      // Ctrl+← and Ctrl+→, or Alt+B and Alt+F: a word back or forward.
      case '\x1b[1;5D':
      case '\x1bb':
        return this.edit(this.line, this.line.slice(0, this.cursor).replace(/\S+\s*$/, '').length);
      case '\x1b[1;5C':
      case '\x1bf':
        return this.edit(this.line, this.cursor + /^\s*\S*/.exec(this.line.slice(this.cursor))![0].length);
      case '\x01':
      case '\x1b[H':
      case '\x1bOH':
        return this.edit(this.line, 0);
      case '\x05':
      case '\x1b[F':
      case '\x1bOF':
        return this.edit(this.line, this.line.length);
      case '\x15':
        return this.edit(this.line.slice(this.cursor), 0);
      case '\x0b':
        return this.edit(this.line.slice(0, this.cursor), this.cursor);
      case '\x17': {
        const start = this.line.slice(0, this.cursor).replace(/\S+\s*$/, '').length;
        return this.edit(this.line.slice(0, start) + this.line.slice(this.cursor), start);
      }
      case '\t':
        return this.complete();
    }
    if (data.startsWith('\x1b')) return;
    // Typed or pasted text: printable characters go in; a newline runs the line.
    const [first, ...rest] = data.split(/\r\n|\r|\n/);
    // A tab inside pasted text separates words, as a space does.
    const text = first!.replace(/\t/g, ' ').replace(/[\x00-\x1f\x7f]/g, '');
    this.edit(this.line.slice(0, this.cursor) + text + this.line.slice(this.cursor), this.cursor + text.length);
    if (rest.length === 0) return;
    // The pasted lines after this one wait for its command to end.
    if (rest.some((line) => line !== '')) this.typeahead.unshift(rest.join('\n'));
    this.enter();
  }

  private edit(line: string, cursor: number): void {
    const appended = cursor === line.length && this.cursor === this.line.length && line.startsWith(this.line);
    const added = line.slice(this.line.length);
    this.line = line;
    this.cursor = cursor;
    if (!appended) return this.redraw();
    this.shown += cells(added);
    this.term.write(added + this.wrapped());
  }

  private browse(step: number): void {
    const index = this.historyIndex + step;
    if (index < 0 || index > this.history.length) return;
    if (this.historyIndex === this.history.length) this.draft = this.line;
    this.historyIndex = index;
    const line = index === this.history.length ? this.draft : this.history[index]!;
    this.line = line;
    this.cursor = line.length;
    this.redraw();
  }

  private complete(): void {
    const before = this.line.slice(0, this.cursor);
    const word = /\S*$/.exec(before)![0];
    const matches = this.options.completions(before, this.ns);
    if (matches.length === 0) return;
    let common = matches[0]!;
    for (const match of matches) while (!match.startsWith(common)) common = common.slice(0, -1);
    const suffix = common.slice(word.length) + (matches.length === 1 ? ' ' : '');
    if (suffix) return this.edit(before + suffix + this.line.slice(this.cursor), this.cursor + suffix.length);
    this.term.write(`${this.toLineEnd()}\n${matches.join('  ')}\n`);
    this.shown = 0;
    this.redraw();
  }

  private enter(): void {
    const line = this.line.trim();
    this.term.write(`${this.toLineEnd()}\n`);
    if (!line) return this.prompt();
    if (this.history[this.history.length - 1] !== line) this.history.push(line);
    if (this.terminalCommand(line)) return this.prompt();
    const id = this.options.nextId();
    const sent = this.options.connection.send({ type: 'exec', id, terminal: this.options.terminal, host: this.options.host, line });
    if (!sent) {
      this.term.write(`${RED}nslab: ${t('offlineRefused')}${RESET}\n`);
      this.typeahead = [];
      return this.prompt();
    }
    this.running = { id, line, printed: 0, skip: 0 };
  }

  /**
   * Runs what the terminal and its shell answer by themselves, not the lab's
   * machines: `clear` and `history`, which habit types. False for anything else.
   */
  private terminalCommand(line: string): boolean {
    if (line === 'clear') {
      this.term.write('\x1b[H\x1b[2J');
      return true;
    }
    if (line === 'history') {
      this.term.write(this.history.map((entry, i) => `${String(i + 1).padStart(5)}  ${entry}\n`).join(''));
      return true;
    }
    return false;
  }

  private interrupt(): void {
    this.typeahead = [];
    this.term.write(`${this.running ? '' : this.toLineEnd()}^C`);
    if (this.running) {
      this.midLine = true;
      this.options.connection.send({ type: 'interrupt', id: this.running.id });
      return;
    }
    this.term.write('\n');
    this.prompt();
  }

  private typing(): void {
    if (this.typingTimer === undefined) this.options.onTyping(true);
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => {
      this.typingTimer = undefined;
      this.options.onTyping(false);
    }, 1500);
  }
}
