// The class calls tests repeat: creating a class, joining it, and the seed
// lesson's first stage solved.
import request from 'supertest';
import type { Running } from '../server/harness';

export interface Created {
  id: string;
  token: string;
  url: string;
  joinCode: { code: string; expiresAt: string };
}

export interface Joined {
  class: string;
  member: string;
  group: number | null;
  driver: boolean;
  token: string;
  lab: { id: string; token: string; url: string };
}

export async function createClass(s: Running, body: object = {}): Promise<Created> {
  const res = await request(s.server.http)
    .post('/api/classes')
    .send({ template: 'seed-1-veth', name: 'Kim', ...body })
    .expect(201);
  return res.body as Created;
}

export async function join(s: Running, code: string, name: string): Promise<Joined> {
  const res = await request(s.server.http).post('/api/classes/join').send({ code, name }).expect(201);
  return res.body as Joined;
}

/** Every task of `seed-1-veth` done, on hostA. */
export const SOLUTION = [
  'ip netns add red',
  'ip netns add blue',
  'ip link add veth-red type veth peer name veth-blue',
  'ip link set veth-red netns red',
  'ip link set veth-blue netns blue',
  'ip -n red addr add 192.168.15.1/24 dev veth-red',
  'ip -n blue addr add 192.168.15.2/24 dev veth-blue',
  'ip -n red link set veth-red up',
  'ip -n blue link set veth-blue up',
];
