import type { ClusterMembership } from '../../application/ports/cluster-membership.port.js';
import type { EndpointId } from '../../domain/endpoint/endpoint-id.js';
import type { Node, NodeId } from '../../domain/node/node.js';

/** ClusterMembership for a node that runs alone: it knows only itself and never forwards. */
export class SingleNodeMembership implements ClusterMembership {
  private readonly endpoints = new Map<EndpointId, number>();

  constructor(
    readonly localNodeId: NodeId,
    /** The advertised addresses, known once the ports are bound. */
    private readonly addresses: () => { readonly proxyAddr: string; readonly adminAddr: string },
  ) {}

  nodes(): readonly Node[] {
    return [
      {
        id: this.localNodeId,
        status: 'active',
        ...this.addresses(),
        endpoints: new Map(this.endpoints),
      },
    ];
  }

  setLocalEndpoint(endpointId: EndpointId, listeners: number): void {
    if (listeners > 0) this.endpoints.set(endpointId, listeners);
    else this.endpoints.delete(endpointId);
  }

  async start(): Promise<void> {}

  async leave(): Promise<void> {}
}
