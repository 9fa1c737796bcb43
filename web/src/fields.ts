// Form building blocks shared by the start page's forms.
import { el } from './dom';
import { bindText, type TextKey } from './i18n';

/** Where the display name typed last is kept, to fill in the next form. */
export const NAME_KEY = 'nslab.name';

/** A control with its translated caption. */
export function label(key: TextKey, control: HTMLElement): HTMLLabelElement {
  const node = el('label', 'field');
  node.append(bindText(el('span'), key), control);
  return node;
}

export function translated<K extends keyof HTMLElementTagNameMap>(tag: K, key: TextKey, className = ''): HTMLElementTagNameMap[K] {
  return bindText(el(tag, className), key);
}
