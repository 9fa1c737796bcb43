// Ids of labs, classes and participants: 12 random base64url characters that
// never start with - or _, so an id is never taken for a command-line option
// or, in an exported spreadsheet, a formula.
import { randomBytes } from 'node:crypto';

export function newId(): string {
  for (;;) {
    const id = randomBytes(9).toString('base64url');
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}
