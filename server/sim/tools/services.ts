// /etc/services as Debian 12 ships it, for the ports tools name: a name
// belongs to a port and protocol (x11 is 6000/tcp only, mdns 5353/udp only).
type Protocol = 'tcp' | 'udp';

const SERVICES: Record<Protocol, Record<string, number>> = {
  tcp: {
    ftp: 21, ssh: 22, telnet: 23, smtp: 25, domain: 53, http: 80, pop3: 110, imap2: 143, snmp: 161, ldap: 389, https: 443, shell: 514,
    submission: 587, imaps: 993, pop3s: 995, openvpn: 1194, mysql: 3306, postgresql: 5432, x11: 6000, 'http-alt': 8080,
  },
  udp: { fsp: 21, domain: 53, bootps: 67, bootpc: 68, tftp: 69, ntp: 123, snmp: 161, ldap: 389, https: 443, syslog: 514, openvpn: 1194, mdns: 5353 },
};

const BY_PORT: Record<Protocol, Map<number, string>> = {
  tcp: new Map(Object.entries(SERVICES.tcp).map(([name, port]) => [port, name])),
  udp: new Map(Object.entries(SERVICES.udp).map(([name, port]) => [port, name])),
};

/** getservbyport: the name of `port` for `protocol`, if it has one. */
export function serviceName(port: number, protocol: Protocol): string | undefined {
  return BY_PORT[protocol].get(port);
}

/** getservbyname without a protocol: the port of a TCP or UDP service name. */
export function servicePort(name: string): number | undefined {
  return SERVICES.tcp[name] ?? SERVICES.udp[name];
}
