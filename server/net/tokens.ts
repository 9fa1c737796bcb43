// Capability tokens: a lab id, a role and a participant, signed with the
// server secret (HMAC-SHA256). Whoever holds a token is that participant.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
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

export class Tokens {
  constructor(private readonly secret: string) {}

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }

  issue(lab: string, role: Role, name: string): { token: string; claims: Claims } {
    const claims: Claims = { lab, role, sub: randomBytes(9).toString('base64url'), name };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `${payload}.${this.sign(payload)}`, claims };
  }

  /** The token's claims, or null when it is malformed or not signed by this server. */
  verify(token: string): Claims | null {
    const [payload, signature, ...rest] = token.split('.');
    if (!payload || !signature || rest.length) return null;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const parsed = Claims.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }
}
