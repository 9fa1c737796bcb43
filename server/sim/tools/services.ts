// /etc/services as Debian 12 ships it, for the ports tools name.
const TCP_AND_UDP: Record<string, number> = {
  ftp: 21, ssh: 22, telnet: 23, smtp: 25, domain: 53, bootps: 67, bootpc: 68, tftp: 69, http: 80, pop3: 110, ntp: 123, imap2: 143,
  snmp: 161, ldap: 389, https: 443, syslog: 514, submission: 587, imaps: 993, pop3s: 995, openvpn: 1194, mysql: 3306, mdns: 5353,
  postgresql: 5432, x11: 6000, 'http-alt': 8080,
};

const BY_PORT = new Map(Object.entries(TCP_AND_UDP).map(([name, port]) => [port, name]));

export function serviceName(port: number): string | undefined {
  return BY_PORT.get(port);
}

export function servicePort(name: string): number | undefined {
  return TCP_AND_UDP[name];
}
