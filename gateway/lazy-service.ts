/**
 * @module A gRPC service that is registered at once but built at its first call.
 *
 * Health and reflection load proto-loader, protobufjs and our descriptor sets: about a third of
 * the gateway's start-up, for services that a piped script never calls. Their method paths are
 * registered before the server listens (a probe right after the `listening` line is answered,
 * never UNIMPLEMENTED); the library that implements them is loaded, synchronously, when the
 * first message of any of them arrives. grpc-js looks handlers up per call, so this is the same
 * dispatch `addService` sets up, one step later.
 */
import type { Server, UntypedServiceImplementation } from '@grpc/grpc-js';

export type MethodType = 'unary' | 'serverStream' | 'clientStream' | 'bidi';

/** Where a service's `addToServer(server)` puts its methods: we capture them instead. */
export interface ServiceSink {
  addService(service: Record<string, MethodAttrs>, implementation: UntypedServiceImplementation): void;
}

interface MethodAttrs {
  path: string;
  originalName?: string;
  requestSerialize: (value: unknown) => Buffer;
  requestDeserialize: (bytes: Buffer) => unknown;
  responseSerialize: (value: unknown) => Buffer;
  responseDeserialize: (bytes: Buffer) => unknown;
}

interface Built {
  attrs: MethodAttrs;
  handler: (...args: unknown[]) => unknown;
}

/**
 * Registers `methods` (full paths, e.g. `/grpc.health.v1.Health/Check`) on `server`; `build`
 * runs once, at the first call to any of them, and must add exactly those methods to the sink.
 */
export function addLazily(server: Server, methods: Readonly<Record<string, MethodType>>, build: (sink: ServiceSink) => void): void {
  let built: Map<string, Built> | undefined;
  const method = (path: string): Built => {
    if (built === undefined) {
      const methodsBuilt = new Map<string, Built>();
      build({
        addService(service, implementation) {
          for (const [name, attrs] of Object.entries(service)) {
            const handler = implementation[name] ?? (attrs.originalName === undefined ? undefined : implementation[attrs.originalName]);
            if (handler !== undefined) methodsBuilt.set(attrs.path, { attrs, handler: handler as Built['handler'] });
          }
        },
      });
      built = methodsBuilt;
    }
    const found = built.get(path);
    if (found === undefined) throw new Error(`lazy service: ${path} was registered but not built`);
    return found;
  };
  for (const [path, type] of Object.entries(methods)) {
    server.register(
      path,
      ((...args: unknown[]) => method(path).handler(...args)),
      (value: unknown) => method(path).attrs.responseSerialize(value),
      (bytes: Buffer) => method(path).attrs.requestDeserialize(bytes),
      type,
    );
  }
}
