// Kernel answers are values, never text: the tools turn them into what the
// real program prints.

export const STRERROR = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EEXIST: 'File exists',
  ENODEV: 'No such device',
  EINVAL: 'Invalid argument',
  ENETUNREACH: 'Network is unreachable',
  EHOSTUNREACH: 'No route to host',
  EBUSY: 'Device or resource busy',
  EOPNOTSUPP: 'Operation not supported',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ERANGE: 'Numerical result out of range',
  ENOBUFS: 'No buffer space available',
  ELOOP: 'Too many levels of symbolic links',
  ENOSPC: 'No space left on device',
  ENETDOWN: 'Network is down',
  EACCES: 'Permission denied',
  EADDRINUSE: 'Address already in use',
  ECONNREFUSED: 'Connection refused',
  ENOPROTOOPT: 'Protocol not available',
  EMSGSIZE: 'Message too long',
  ETIMEDOUT: 'Connection timed out',
  ENOTSUP: 'Not supported',
} as const;

export type Errno = keyof typeof STRERROR;

export interface KernelError {
  ok: false;
  errno: Errno;
  /** Netlink extended ack message, printed by iproute2 as `Error: ….` */
  extack?: string;
}

export type KResult<T = void> = ({ ok: true } & (T extends void ? { value?: undefined } : { value: T })) | KernelError;

export const OK: { ok: true; value?: undefined } = { ok: true };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail(errno: Errno, extack?: string): KernelError {
  return extack === undefined ? { ok: false, errno } : { ok: false, errno, extack };
}
