/**
 * @module The standard gRPC health service (grpc-health-check), built at its first call
 * (lazy-service.ts): until then only the statuses are kept here.
 */
import { createRequire } from 'node:module';
import type { Server } from '@grpc/grpc-js';
import type { HealthImplementation } from 'grpc-health-check';
import { addLazily } from './lazy-service.js';

type ServingStatus = Parameters<HealthImplementation['setStatus']>[1];

const load = createRequire(import.meta.url);

export class Health {
  private readonly statuses = new Map<string, ServingStatus>();
  private implementation: HealthImplementation | undefined;

  constructor(server: Server, initial: Readonly<Record<string, ServingStatus>>) {
    for (const [service, status] of Object.entries(initial)) this.statuses.set(service, status);
    const methods = { '/grpc.health.v1.Health/Check': 'unary', '/grpc.health.v1.Health/Watch': 'serverStream', '/grpc.health.v1.Health/List': 'unary' } as const;
    addLazily(server, methods, (sink) => {
      const { HealthImplementation: Implementation } = load('grpc-health-check') as typeof import('grpc-health-check');
      this.implementation = new Implementation(Object.fromEntries(this.statuses));
      this.implementation.addToServer(sink as unknown as Server);
    });
  }

  setStatus(service: string, status: ServingStatus): void {
    this.statuses.set(service, status);
    this.implementation?.setStatus(service, status);
  }
}
