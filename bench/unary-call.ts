/**
 * @module One grpc-js unary call as a promise (the callback API underneath, as users call it).
 */
import type { ServiceError } from '@grpc/grpc-js';

export type Callback<Res> = (error: ServiceError | null, res: Res) => void;

export function unaryCall<Res>(start: (cb: Callback<Res>) => unknown): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    start((error, res) => (error ? reject(error) : resolve(res)));
  });
}
