/**
 * @module Server reflection with real descriptors.
 *
 * `@grpc/reflection` fed a proto-loader definition serves synthesized descriptors (no
 * imports, misnamed map entries) that strict clients such as grpcurl reject
 * (grpc/grpc-node#3018, #3034). So it is fed the FileDescriptorSets that `buf build` wrote at
 * build time instead: our API with its imports, and the standard health service.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { Server } from '@grpc/grpc-js';

const DESCRIPTOR_SETS = ['arbor.binpb', 'health.binpb'];

/** Every file of the build-time descriptor sets, each encoded as a FileDescriptorProto. */
export function descriptorFiles(dir = fileURLToPath(new URL('../descriptors/', import.meta.url))): Buffer[] {
  const files: Buffer[] = [];
  for (const name of DESCRIPTOR_SETS) {
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(`${dir}${name}`));
    for (const file of set.file) files.push(Buffer.from(toBinary(FileDescriptorProtoSchema, file)));
  }
  return files;
}

export function addReflection(server: Server): void {
  const definition = { descriptors: { format: 'Protocol Buffer 3 FileDescriptorProto', fileDescriptorProtos: descriptorFiles() } };
  new ReflectionService(definition as unknown as PackageDefinition).addToServer(server);
}
