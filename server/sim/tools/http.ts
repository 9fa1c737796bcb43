// HTTP over the simulated TCP: Python's `http.server` and `curl`.
import { formatIpv4, type Ipv4 } from '../kernel/addr';
import { STRERROR } from '../kernel/errno';
import { tcpConnect, tcpListen, tcpUnlisten, type TcpSocket } from '../kernel/sockets';
import { isDirectory, normalisePath } from './fs';
import { parseIpv4Loose } from './ip/utils';
import type { Proc, ProcContext, Program } from './process';

const POLL_US = 10_000;
const PYTHON_SERVER = 'SimpleHTTP/0.6 Python/3.11.2';

const DATE_PARTS = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', weekday: 'short', day: '2-digit', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

/** Calendar fields of a simulated time (the world's clock starts at the Unix epoch). */
function dateParts(nowUs: number): Record<string, string> {
  const parts: Record<string, string> = {};
  for (const p of DATE_PARTS.formatToParts(Math.floor(nowUs / 1000))) parts[p.type] = p.value;
  return parts;
}

/** The request log's date: 01/Jan/1970 00:00:05. */
function logDate(nowUs: number): string {
  const d = dateParts(nowUs);
  return `${d.day}/${d.month}/${d.year} ${d.hour}:${d.minute}:${d.second}`;
}

/** The Date header: Thu, 01 Jan 1970 00:00:05 GMT. */
function rfc1123(nowUs: number): string {
  const d = dateParts(nowUs);
  return `${d.weekday}, ${d.day} ${d.month} ${d.year} ${d.hour}:${d.minute}:${d.second} GMT`;
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** SimpleHTTPRequestHandler.list_directory */
function listing(names: string[], path: string): string {
  const title = `Directory listing for ${escapeHtml(path)}`;
  const items = names.map((n) => `<li><a href="${encodeURI(n)}">${escapeHtml(n)}</a></li>\n`).join('');
  return `<!DOCTYPE HTML>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${title}</title>\n</head>\n<body>\n<h1>${title}</h1>\n<hr>\n<ul>\n${items}</ul>\n<hr>\n</body>\n</html>\n`;
}

const NOT_FOUND_BODY = `<!DOCTYPE HTML>
<html lang="en">
    <head>
        <meta charset="utf-8">
        <title>Error response</title>
    </head>
    <body>
        <h1>Error response</h1>
        <p>Error code: 404</p>
        <p>Message: File not found.</p>
        <p>Error code explanation: 404 - Nothing matches the given URI.</p>
    </body>
</html>
`;

function contentType(name: string): string {
  if (/\.html?$/.test(name)) return 'text/html';
  if (name.endsWith('.json')) return 'application/json';
  if (name.endsWith('.css')) return 'text/css';
  if (name.endsWith('.js')) return 'text/javascript';
  return name.endsWith('.txt') || !name.includes('.') ? 'text/plain' : 'application/octet-stream';
}

interface Response {
  status: number;
  reason: string;
  headers: Array<[string, string]>;
  body: string;
}

/** What http.server answers for one request, from the files under `root`. */
function serve(ctx: ProcContext, root: string, method: string, target: string): Response {
  const path = decodeURIComponent(target.split('?')[0]!);
  const date = rfc1123(ctx.world.now);
  const abs = normalisePath('.' + path, root);
  const serveFile = (file: string, name: string): Response => ({
    status: 200,
    reason: 'OK',
    headers: [['Server', PYTHON_SERVER], ['Date', date], ['Content-type', contentType(name)], ['Content-Length', String(byteLength(file))], ['Last-Modified', date]],
    body: method === 'HEAD' ? '' : file,
  });
  const children = (dir: string) => {
    const prefix = dir === '/' ? '/' : dir + '/';
    const names = new Set<string>();
    for (const file of ctx.host.files.keys()) if (file.startsWith(prefix)) names.add(file.slice(prefix.length).split('/')[0]! + (file.slice(prefix.length).includes('/') ? '/' : ''));
    for (const d of ctx.host.directories) if (d.startsWith(prefix) && d !== dir) names.add(d.slice(prefix.length).split('/')[0]! + '/');
    return [...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
  };
  if (isDirectory(ctx, abs) || abs === root) {
    // send_head: a directory is named with its slash, and its index page stands for it.
    const urlPath = target.split('?')[0]!;
    if (!urlPath.endsWith('/')) {
      const query = target.includes('?') ? target.slice(target.indexOf('?')) : '';
      return { status: 301, reason: 'Moved Permanently', headers: [['Server', PYTHON_SERVER], ['Date', date], ['Location', `${urlPath}/${query}`], ['Content-Length', '0']], body: '' };
    }
    const index = ['index.html', 'index.htm'].map((name) => `${abs === '/' ? '' : abs}/${name}`).find((name) => ctx.host.files.has(name));
    if (index !== undefined) return serveFile(ctx.host.files.get(index)!, index);
    const body = listing(children(abs), path);
    return { status: 200, reason: 'OK', headers: [['Server', PYTHON_SERVER], ['Date', date], ['Content-type', 'text/html; charset=utf-8'], ['Content-Length', String(byteLength(body))]], body: method === 'HEAD' ? '' : body };
  }
  const file = ctx.host.files.get(abs);
  if (file !== undefined) return serveFile(file, abs);
  return { status: 404, reason: 'File not found', headers: [['Server', PYTHON_SERVER], ['Date', date], ['Connection', 'close'], ['Content-Type', 'text/html;charset=utf-8'], ['Content-Length', String(NOT_FOUND_BODY.length)]], body: method === 'HEAD' ? '' : NOT_FOUND_BODY };
}

function responseText(r: Response): string {
  return `HTTP/1.0 ${r.status} ${r.reason}\r\n${r.headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${r.body}`;
}

/** `python3 -m http.server [PORT] [--bind ADDR] [--directory DIR]`: the one Python program labs use. */
function* python(ctx: ProcContext, argv: string[]): Proc {
  if (argv[1] !== '-m' || argv[2] !== 'http.server') {
    ctx.stderr.write('python3: only `python3 -m http.server` is available on this machine\n');
    return 2;
  }
  let port = 8000;
  let bind: Ipv4 = 0;
  let root = ctx.session.cwd;
  const args = argv.slice(3);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--bind' || a === '-b') bind = parseIpv4Loose(args[++i] ?? '') ?? 0;
    else if (a === '--directory' || a === '-d') root = normalisePath(args[++i] ?? '.', ctx.session.cwd);
    else if (/^\d+$/.test(a)) port = Number(a);
  }
  const listening = tcpListen(ctx.ns, bind, port, 5, 'python3', (conn) => {
    conn.events = {
      onData: (request) => {
        const [method = 'GET', target = '/'] = request.split('\r\n')[0]!.split(' ');
        const response = serve(ctx, root, method, target);
        ctx.stderr.write(`${formatIpv4(conn.remote.addr)} - - [${logDate(ctx.world.now)}] "${request.split('\r\n')[0]}" ${response.status} -\n`);
        conn.send(responseText(response));
        conn.close();
      },
      onClose: () => conn.close(),
    };
  });
  if (!listening.ok) {
    ctx.stderr.write(`OSError: [Errno 98] ${STRERROR[listening.errno]}\n`);
    return 1;
  }
  const shown = formatIpv4(bind);
  ctx.stdout.write(`Serving HTTP on ${shown} port ${port} (http://${shown}:${port}/) ...\n`);
  try {
    while (!ctx.interrupted()) yield ctx.world.now + POLL_US;
  } finally {
    tcpUnlisten(ctx.ns, listening.value);
  }
  ctx.stdout.write('\nKeyboard interrupt received, exiting.\n');
  return 0;
}

interface CurlOptions {
  silent: boolean;
  showErrors: boolean;
  head: boolean;
  include: boolean;
  fail: boolean;
  output: string | null;
  writeOut: string | null;
  maxTimeUs: number | null;
  connectTimeoutUs: number | null;
  url: string | null;
  /** -L: follow redirects. */
  location: boolean;
}

/** What one HTTP exchange came to: the response, or curl's error. */
type Exchange = { head: string; body: string; code: number } | { error: number; message: string };

const MAX_REDIRECTS = 50;

/** Options whose value is the next word. */
const SHORT_WITH_VALUE = 'mowXHdAuexT';
/** The protocols Debian's libcurl is built with. */
const CURL_PROTOCOLS = new Set(['dict', 'file', 'ftp', 'ftps', 'gopher', 'gophers', 'http', 'https', 'imap', 'imaps', 'ldap', 'ldaps', 'mqtt', 'pop3', 'pop3s', 'rtmp', 'rtsp', 'scp', 'sftp', 'smb', 'smbs', 'smtp', 'smtps', 'telnet', 'tftp']);
const LONG_WITH_VALUE = new Set(['--max-time', '--connect-timeout', '--output', '--write-out']);

/** curl 7.88.1: one request, the body to stdout, errors with curl's exit codes. */
function* curl(ctx: ProcContext, argv: string[]): Proc {
  const o: CurlOptions = { silent: false, showErrors: false, head: false, include: false, fail: false, output: null, writeOut: null, maxTimeUs: null, connectTimeoutUs: null, url: null, location: false };
  const usage = (problem: string | null): number => {
    ctx.stderr.write(`${problem ? `curl: ${problem}\n` : ''}curl: try 'curl --help' or 'curl --manual' for more information\n`);
    return 2;
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (LONG_WITH_VALUE.has(a) && i + 1 >= argv.length) return usage(`option ${a}: requires parameter`);
    if (a === '--max-time') o.maxTimeUs = Number(argv[++i]) * 1e6;
    else if (a === '--connect-timeout') o.connectTimeoutUs = Number(argv[++i]) * 1e6;
    else if (a === '--output') o.output = argv[++i] ?? null;
    else if (a === '--write-out') o.writeOut = argv[++i] ?? null;
    else if (a === '--silent') o.silent = true;
    else if (a === '--head') o.head = true;
    else if (a === '--fail') o.fail = true;
    else if (a === '--include') o.include = true;
    else if (a === '--location') o.location = true;
    else if (a.startsWith('--')) return usage(`option ${a}: is unknown`);
    else if (/^-[a-zA-Z]+$/.test(a)) {
      for (let j = 1; j < a.length; j++) {
        const f = a[j]!;
        if (SHORT_WITH_VALUE.includes(f)) {
          if (j + 1 === a.length && i + 1 >= argv.length) return usage(`option -${f}: requires parameter`);
          const value = a.slice(j + 1) || argv[++i]!;
          if (f === 'm') o.maxTimeUs = Number(value) * 1e6;
          else if (f === 'o') o.output = value;
          else if (f === 'w') o.writeOut = value;
          break;
        }
        if (f === 's') o.silent = true;
        else if (f === 'S') o.showErrors = true;
        else if (f === 'I') o.head = true;
        else if (f === 'i') o.include = true;
        else if (f === 'f') o.fail = true;
        else if (f === 'L') o.location = true;
        else if (!'vk'.includes(f)) {
          ctx.stderr.write(`curl: option -${f}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n`);
          return 2;
        }
      }
    } else o.url = a;
  }
  const complain = (code: number, message: string): number => {
    if (!o.silent || o.showErrors) ctx.stderr.write(`curl: (${code}) ${message}\n`);
    return code;
  };
  if (o.url === null) return usage(argv.length > 1 ? 'no URL specified!' : null);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(o.url)?.[1];
  if (scheme !== undefined && !CURL_PROTOCOLS.has(scheme.toLowerCase())) return complain(1, `Protocol "${scheme}" not supported or disabled in libcurl`);
  const m = /^(?:http:\/\/)?([^/:]+)(?::(\d+))?(\/.*)?$/.exec(o.url);
  const port = m?.[2] === undefined ? 80 : Number(m[2]);
  if (!m || port > 65535) return complain(3, 'URL using bad/illegal format or missing URL');
  const [, host, portText] = m;
  let path = m[3] ?? '/';
  const dst = parseIpv4Loose(host!);
  if (dst === null || host!.split('.').length !== 4) return complain(6, `Could not resolve host: ${host}`);
  const started = ctx.world.now;
  const elapsedMs = () => Math.round((ctx.world.now - started) / 1000);

  /** One request on a new connection: the response, or the error curl reports. */
  function* exchange(): Generator<number, Exchange, void> {
    const deadline = started + Math.min(o.maxTimeUs ?? Infinity, o.connectTimeoutUs ?? 300_000_000);
    let state: 'connecting' | 'connected' | 'failed' | 'closed' = 'connecting';
    let response = '';
    const connect = tcpConnect(ctx.ns, dst!, port, 'curl', {
      onEstablished: () => (state = 'connected'),
      onError: () => (state = 'failed'),
      onData: (text) => (response += text),
      onClose: () => (state = 'closed'),
    });
    if (!connect.ok) return { error: 7, message: `Failed to connect to ${host} port ${port} after ${elapsedMs()} ms: Couldn't connect to server` };
    const conn: TcpSocket = connect.value;
    while (state === 'connecting' && ctx.world.now < deadline && !ctx.interrupted()) yield Math.min(deadline, ctx.world.now + POLL_US);
    if (state === 'connecting') {
      conn.drop();
      return { error: 28, message: `Failed to connect to ${host} port ${port} after ${elapsedMs()} ms: Timeout was reached` };
    }
    if (state === 'failed') return { error: 7, message: `Failed to connect to ${host} port ${port} after ${elapsedMs()} ms: Couldn't connect to server` };
    conn.send(`${o.head ? 'HEAD' : 'GET'} ${path} HTTP/1.1\r\nHost: ${host}${portText ? `:${port}` : ''}\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n`);
    const bodyDeadline = started + (o.maxTimeUs ?? Infinity);
    while (state === 'connected' && ctx.world.now < bodyDeadline && !ctx.interrupted()) yield Math.min(bodyDeadline, ctx.world.now + POLL_US);
    if (state === 'connected') {
      conn.close();
      return { error: 28, message: `Operation timed out after ${elapsedMs()} milliseconds with ${response.length} bytes received` };
    }
    conn.close();
    const split = response.indexOf('\r\n\r\n');
    const head = split < 0 ? response : response.slice(0, split + 4);
    return { head, body: split < 0 ? '' : response.slice(split + 4), code: Number(/^HTTP\/\d\.\d (\d+)/.exec(head)?.[1] ?? 0) };
  }

  // -L: a 3xx with a Location is asked again there (a path on the same server); -i shows every response's head.
  let heads = '';
  let redirected = false;
  let result: Exchange;
  for (let redirects = 0; ; redirects++) {
    result = yield* exchange();
    if ('error' in result) return complain(result.error, result.message);
    const location = /^Location: (.*)\r$/im.exec(result.head)?.[1];
    if (!o.location || result.code < 300 || result.code > 399 || location === undefined) break;
    if (redirects === MAX_REDIRECTS) return complain(47, `Maximum (${MAX_REDIRECTS}) redirects followed`);
    heads += result.head;
    redirected = true;
    path = location.startsWith('/') ? location : path.replace(/[^/]*$/, '') + location;
  }
  const { head, body, code } = result;
  if (o.fail && code >= 400) return complain(22, `The requested URL returned error: ${code}`);
  const shown = o.head ? heads + head : (o.include ? heads + head : '') + body;
  if (o.output && o.output !== '/dev/null') ctx.host.files.set(normalisePath(o.output, ctx.session.cwd), shown);
  else if (!o.output) ctx.stdout.write(shown);
  if (o.writeOut !== null) {
    const vars: Record<string, string> = {
      http_code: String(code).padStart(3, '0'),
      response_code: String(code),
      remote_ip: formatIpv4(dst),
      remote_port: String(port),
      size_download: String(byteLength(body)),
      url_effective: redirected ? `http://${host}${portText ? `:${port}` : ''}${path}` : o.url.startsWith('http') ? o.url : `http://${o.url}`,
      time_total: ((ctx.world.now - started) / 1e6).toFixed(6),
    };
    ctx.stdout.write(o.writeOut.replace(/%\{(\w+)\}/g, (_, k: string) => vars[k] ?? '').replace(/\\n/g, '\n').replace(/\\t/g, '\t'));
  }
  return 0;
}

export const httpServer: Program = { run: python, flushesStdout: true };
export const curlProgram: Program = { run: curl, recordsPath: true };
