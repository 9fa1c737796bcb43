// Capability tokens: a lab id, a role and a participant, signed with the
// server secret (HMAC-SHA256). Whoever holds a token is that participant.
// Class tokens (an instructor's, a student's) name a class instead of a lab;
// the two kinds never parse as each other, so neither opens what the other does.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { newId } from '../labs/new-id';
import { z } from 'zod';
import { Role } from '../../shared/protocol';

const Claims = z.strictObject({
  lab: z.string(),
  role: Role,
  /** The participant: stable across their connections, distinct per invite. */
  sub: z.string(),
  name: z.string(),
});
export type Claims = z.infer<typeof Claims>;

const ClassClaims = z.strictObject({
  class: z.string(),
  role: z.enum(['instructor', 'student']),
  /** The instructor, or the student's member id. */
  sub: z.string(),
  name: z.string(),
});
export type ClassClaims = z.infer<typeof ClassClaims>;

export class Tokens {
  constructor(private readonly secret: string) {}

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }

  private seal(claims: object): string {
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  /** A lab token; `sub` names an existing participant (a class member), a new one otherwise. */
  issue(lab: string, role: Role, name: string, sub = newId()): { token: string; claims: Claims } {
    const claims: Claims = { lab, role, sub, name };
    return { token: this.seal(claims), claims };
  }

  issueClass(claims: ClassClaims): string {
    return this.seal(claims);
  }

  /** The lab token's claims, or null when it is malformed or not signed by this server. */
  verify(token: string): Claims | null {
    return this.open(token, Claims);
  }

  verifyClass(token: string): ClassClaims | null {
    return this.open(token, ClassClaims);
  }

  private open<T>(token: string, schema: z.ZodType<T>): T | null {
    const [payload, signature, ...rest] = token.split('.');
    if (!payload || !signature || rest.length) return null;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const parsed = schema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }
}
