// Who is in the lab: the presence states the server relays, with each
// participant's colour, where they are typing and whether they are.
import type { Awareness } from 'y-protocols/awareness';
import { t } from './i18n';

interface PresenceState {
  name?: string;
  color?: string;
  host?: string | null;
  ns?: string | null;
  typing?: boolean;
}

export class Participants {
  readonly element = document.createElement('ul');

  constructor(
    private readonly awareness: Awareness,
    /** The server names every participant; our own state is not echoed back, so our name comes from the welcome. */
    private readonly ownName: () => string | null,
  ) {
    this.element.className = 'participants-list';
    awareness.on('change', () => this.render());
    this.render();
  }

  render(): void {
    const states = [...this.awareness.getStates().entries()] as Array<[number, PresenceState]>;
    states.sort(([a], [b]) => (a === this.awareness.clientID ? -1 : b === this.awareness.clientID ? 1 : a - b));
    this.element.replaceChildren(
      ...states.map(([clientId, state]) => {
        const li = document.createElement('li');
        li.className = 'participant';
        const dot = document.createElement('span');
        dot.className = 'participant-dot';
        dot.style.background = state.color ?? '#888888';
        const name = document.createElement('span');
        name.className = 'participant-name';
        const own = clientId === this.awareness.clientID;
        name.textContent = own ? `${this.ownName() ?? state.name ?? ''} (${t('you')})` : (state.name ?? '…');
        const where = document.createElement('span');
        where.className = 'participant-where';
        where.textContent = state.host ? (state.ns ? `${state.host}/${state.ns}` : state.host) : '';
        li.append(dot, name, where);
        if (state.typing) {
          const typing = document.createElement('span');
          typing.className = 'participant-typing';
          typing.textContent = t('typing');
          li.append(typing);
        }
        return li;
      }),
    );
  }
}
