/**
 * @module Server reflection with real descriptors.
 *
 * `@grpc/reflection` fed a proto-loader definition serves synthesized descriptors (no
 * imports, misnamed map entries) that strict clients such as grpcurl reject
 * (grpc/grpc-node#3018, #3034). So it is fed the FileDescriptorSets that `buf build` wrote at
 * build time instead: our API with its imports, and the standard health service. Both the
 * library and the descriptors are loaded at the first reflection call (lazy-service.ts).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { PackageDefinition } from '@grpc/proto-loader';
import type { Server } from '@grpc/grpc-js';
import { addLazily } from './lazy-service.js';

const load = createRequire(import.meta.url);

const REFLECTION_METHODS = {
  '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo': 'bidi',
  '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo': 'bidi',
} as const;

const DESCRIPTOR_SETS = ['arbor.binpb', 'health.binpb'];

/** Every file of the build-time descriptor sets, each encoded as a FileDescriptorProto. */
export function descriptorFiles(dir = fileURLToPath(new URL('../descriptors/', import.meta.url))): Buffer[] {
  const { fromBinary, toBinary } = load('@bufbuild/protobuf') as typeof import('@bufbuild/protobuf');
  const { FileDescriptorProtoSchema, FileDescriptorSetSchema } = load('@bufbuild/protobuf/wkt') as typeof import('@bufbuild/protobuf/wkt');
  const files: Buffer[] = [];
  for (const name of DESCRIPTOR_SETS) {
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(`${dir}${name}`));
    for (const file of set.file) files.push(Buffer.from(toBinary(FileDescriptorProtoSchema, file)));
  }
  return files;
}

export function addReflection(server: Server): void {
  addLazily(server, REFLECTION_METHODS, (sink) => {
    const { ReflectionService } = load('@grpc/reflection') as typeof import('@grpc/reflection');
    const definition = { descriptors: { format: 'Protocol Buffer 3 FileDescriptorProto', fileDescriptorProtos: descriptorFiles() } };
    new ReflectionService(definition as unknown as PackageDefinition).addToServer(sink);
  });
}
