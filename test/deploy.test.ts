// The deployment files (docker-compose.yml, Dockerfile, docs/deploy/) say what
// the README's Deployment section says. No Docker engine runs here: these
// tests read the files; they do not build or start anything.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}
// Compose resolves YAML merge keys (`<<: *nslab`); so does `merge: true`.
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const { services } = compose;
const instances = [services['nslab-1']!, services['nslab-2']!];

/** The nginx config the proxy service mounts, without comments. */
function proxyConfig(): { path: string; text: string } {
  const mount = services.proxy!.volumes!.find((v) => v.split(':')[1] === '/etc/nginx/nginx.conf');
  expect(mount, 'the proxy mounts its nginx.conf').toBeDefined();
  const path = mount!.split(':')[0]!.replace(/^\.\//, '');
  return { path, text: read(path).replace(/#.*$/gm, '') };
}

/** The body of the first `NAME ARGS {…}` block in nginx text. */
function block(text: string, opening: RegExp): string {
  const start = text.search(opening);
  expect(start, `a block ${opening}`).toBeGreaterThanOrEqual(0);
  let depth = 0;
  for (let i = text.indexOf('{', start); i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(text.indexOf('{', start) + 1, i);
  }
  throw new Error(`unbalanced block ${opening}`);
}

const seconds = (value: string) => Number(/^(\d+)/.exec(value)![1]) * ({ s: 1, m: 60, h: 3600 }[value.replace(/^\d+/, '') || 's'] ?? NaN);

describe('docker-compose.yml', () => {
  it('has Redis, two nslab instances and a proxy, and only the proxy is published', () => {
    expect(Object.keys(services).sort()).toEqual(['nslab-1', 'nslab-2', 'proxy', 'redis']);
    expect(services.redis!.image).toMatch(/^redis:/);
    for (const instance of instances) {
      expect(instance.build).toBe('.');
      expect(instance.ports).toBeUndefined();
      expect(instance.depends_on?.redis?.condition).toBe('service_healthy');
    }
    expect(services.proxy!.image).toMatch(/^nginx:/);
    expect(services.proxy!.ports).toEqual(['${HTTP_PORT:-8080}:80']);
    expect(services.redis!.ports).toBeUndefined();
  });

  it('runs Redis with append-only persistence, fsynced on every write, on a volume', () => {
    const command = services.redis!.command!.join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--appendfsync always');
    const volume = services.redis!.volumes!.find((v) => v.endsWith(':/data'))!;
    expect(compose.volumes).toHaveProperty(volume.split(':')[0]!);
  });

  it('gives both instances the same Redis, secret and public address, from the environment', () => {
    const [one, two] = instances.map((i) => i.environment!);
    expect(one).toEqual(two);
    expect(one!.REDIS_URL).toBe('redis://redis:6379');
    // A reference to .env that stops compose when it is missing, never a literal secret.
    expect(one!.NSLAB_SECRET).toMatch(/^\$\{NSLAB_SECRET:\?[^}]+\}$/);
    expect(one!.ALLOWED_ORIGINS).toBe(one!.PUBLIC_URL);
    expect(one!.PUBLIC_URL).toMatch(/^\$\{PUBLIC_URL:-http:\/\/localhost:8080\}$/);
    // Every variable set is one the server reads (directly, or through numberFrom('NAME', …)).
    const main = read('server/main.ts');
    const unread = Object.keys(one!).filter((name) => !main.includes(`process.env.${name}`) && !main.includes(`numberFrom('${name}'`));
    expect(unread).toEqual([]);
  });

  it('commits no secret: the example .env leaves NSLAB_SECRET empty and .env is ignored', () => {
    expect(read('docs/deploy/env.example')).toMatch(/^NSLAB_SECRET=$/m);
    expect(read('.gitignore').split('\n')).toContain('.env');
    expect(read('.dockerignore').split('\n')).toContain('.env');
  });
});

describe('the proxy config', () => {
  it('balances over both instances, on the port they listen on', () => {
    const { text } = proxyConfig();
    const upstream = block(text, /upstream nslab\s*\{/);
    const servers = [...upstream.matchAll(/^\s*server\s+(\S+?)(?:\s|;)/gm)].map((m) => m[1]);
    expect(servers).toEqual(['nslab-1:8080', 'nslab-2:8080']);
    expect(read('Dockerfile')).toMatch(/^ENV .*\bPORT=8080\b/m);
    // Every location sends its requests there.
    expect(new Set([...text.matchAll(/proxy_pass\s+(\S+);/g)].map((m) => m[1]))).toEqual(new Set(['http://nslab']));
  });

  it('upgrades WebSockets on /ws/ and keeps them open long', () => {
    const { text } = proxyConfig();
    expect(block(text, /map \$http_upgrade \$connection_upgrade\s*\{/)).toMatch(/default\s+upgrade;/);
    const server = block(text, /server\s*\{/);
    expect(server).toMatch(/proxy_http_version 1\.1;/);
    expect(server).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(server).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    // nginx drops inherited proxy_set_header lines in a location that sets its own.
    expect(server.replace(/location[^{]*\{[^}]*\}/g, '')).toContain('proxy_set_header Upgrade');
    expect([...server.matchAll(/location[^{]*\{([^}]*)\}/g)].filter((m) => m[1]!.includes('proxy_set_header'))).toEqual([]);
    const ws = block(server, /location \/ws\/\s*\{/);
    expect(ws).toContain('proxy_pass http://nslab;');
    // Longer than the server's 30 s heartbeat.
    for (const name of ['proxy_read_timeout', 'proxy_send_timeout']) {
      expect(seconds(new RegExp(`${name}\\s+(\\S+);`).exec(ws)![1]!)).toBeGreaterThanOrEqual(3600);
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile').replace(/\\\n/g, ' ');
  const instructions = dockerfile.split('\n').filter((line) => /^[A-Z]+ /.test(line));
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it('builds on Node 22 in two stages: npm ci and the web client, then the server as npm start runs it', () => {
    const bases = instructions.filter((i) => i.startsWith('FROM ')).map((i) => i.split(/\s+/)[1]);
    expect(bases.length).toBe(2);
    for (const base of bases) expect(base).toMatch(/^node:22(-|$)/);
    expect(stages[0]).toMatch(/^RUN npm ci\b/m);
    expect(stages[0]).toMatch(/^RUN npm run build:web$/m);
    const runtime = stages[1]!;
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist\/web dist\/web$/m);
    expect(JSON.parse(/^CMD (.*)$/m.exec(runtime)![1]!)).toEqual(['node', '--import', 'tsx', 'server/main.ts']);
    expect(JSON.parse(read('package.json')).scripts.start).toBe('tsx server/main.ts');
  });

  it('runs as a non-root user and checks /healthz', () => {
    const runtime = stages[1]!;
    const user = /^USER (\S+)$/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(runtime.indexOf('USER ')).toBeLessThan(runtime.indexOf('CMD '));
    expect(/^HEALTHCHECK .*$/m.exec(runtime)![0]).toContain('/healthz');
  });

  it('copies only files that exist in the repository and reach the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    const sources = instructions
      .filter((i) => i.startsWith('COPY ') && !i.includes('--from='))
      .flatMap((i) => i.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), `${source} exists`).toBe(true);
      expect(ignored.filter((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `${source} is not in .dockerignore`).toEqual([]);
    }
  });
});
