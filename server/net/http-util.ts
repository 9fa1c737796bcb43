// What every HTTP route shares: errors that carry their status, and bodies
// checked against a schema with a message naming the field.
import type { z } from 'zod';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === undefined) throw new HttpError(400, 'body: expected a JSON object (Content-Type: application/json)');
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HttpError(400, `${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`);
  }
  return parsed.data;
}
