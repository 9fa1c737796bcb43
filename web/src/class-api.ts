// The class routes of the HTTP API (docs/API.md, "Classes") as the web client
// uses them, and the links of class pages. Tokens travel in URL fragments, as
// in lab links, so they never reach a server log.
import type { TaskProgress } from '../../shared/dashboard';
import type { ClassState } from '../../shared/protocol';

export type { Dashboard, LabRow, LabTopology, TaskProgress } from '../../shared/dashboard';

export interface Instructions {
  en: string;
  ko: string;
}

export interface LabLink {
  id: string;
  token: string;
  url: string;
}

/** A student's view of their class (GET /api/classes/:id/me). */
export interface Membership {
  class: string;
  title: string;
  member: string;
  name: string;
  group: number | null;
  driver: ClassState['driver'];
  locked: boolean;
  lab: LabLink;
  instructions: Instructions;
  tasks: TaskProgress[];
}

/** A class and a class token: the instructor's on the dashboard, a student's in their lab. */
export interface ClassAccess {
  class: string;
  token: string;
}

/** Class routes (and a lab's history routes) are called like any other. */
export { apiCall as classCall } from './api';

export const classPath = (access: ClassAccess, rest = '') => `/api/classes/${encodeURIComponent(access.class)}${rest}`;

/** The dashboard's id and the instructor's token, from a /classes/ID#token=… link. */
export function parseDashboardLink(link: string): ClassAccess | null {
  const url = new URL(link, location.origin);
  const id = /^\/classes\/([^/]+)$/.exec(url.pathname)?.[1];
  const token = new URLSearchParams(url.hash.slice(1)).get('token');
  return id && token ? { class: decodeURIComponent(id), token } : null;
}

/** A student's lab page: the lab link, with their class and class token in the fragment too (to follow the lab after a reset). */
export function studentLabPath(lab: LabLink, access: ClassAccess): string {
  const fragment = new URLSearchParams({ token: lab.token, class: access.class, classToken: access.token });
  return `/labs/${encodeURIComponent(lab.id)}#${fragment}`;
}

/** The student's class access kept in a lab page's fragment, if it is a student's lab page. */
export function studentAccess(hash: string): ClassAccess | null {
  const params = new URLSearchParams(hash.slice(1));
  const id = params.get('class');
  const token = params.get('classToken');
  return id && token ? { class: id, token } : null;
}
