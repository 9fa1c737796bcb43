// A simulated machine: its own root namespace and its own set of named
// namespaces (what /run/netns holds on that machine).
import { NetNs } from './netns';
import type { World } from './world';

export class Host {
  readonly root: NetNs;
  /** Named namespaces in creation order. */
  readonly namespaces = new Map<string, NetNs>();
  hostname: string;
  /** Files users wrote outside /proc (redirections into /tmp and the like). */
  readonly files = new Map<string, string>();
  /** Directories users made (mktemp -d, mkdir). */
  readonly directories = new Set<string>();
  /** Files made executable (chmod +x): scripts that run by their path. */
  readonly executables = new Set<string>();
  /** Process ids handed out on this machine (what ss -p shows). */
  lastPid = 1000;

  constructor(
    readonly world: World,
    readonly name: string,
  ) {
    this.hostname = name;
    this.root = new NetNs(this, null, world.nextNsSerial());
  }

  /** Every namespace of this host, root first. */
  allNamespaces(): NetNs[] {
    return [this.root, ...this.namespaces.values()];
  }
}
