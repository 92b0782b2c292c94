/**
 * @module The API's messages in both generated shapes: ts-proto (`proto/gen`, what the gateway's
 * handlers and the CLI are written against) and protobuf-es (`proto/gen-es`, what Connect's
 * runtime needs, on the gateway's web side and in the page).
 *
 * A message crosses by its protobuf binary encoding, the API's own contract, so the conversion
 * is exact by construction (every field, and any field added later) and no code maps one shape's
 * fields onto the other's by hand. It costs one extra encode and decode per message, which only
 * the web view pays (a person clicking), never the gRPC path.
 */
import { type DescMessage, fromBinary, type MessageShape, toBinary } from '@bufbuild/protobuf';

/** The encode/decode pair ts-proto generates for every message. */
export interface TsProtoCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

/** A ts-proto message as the protobuf-es message of `schema`. */
export function toEs<Desc extends DescMessage, T>(schema: Desc, codec: TsProtoCodec<T>, message: T): MessageShape<Desc> {
  return fromBinary(schema, codec.encode(message).finish());
}

/** A protobuf-es message of `schema` as its ts-proto message. */
export function fromEs<Desc extends DescMessage, T>(schema: Desc, codec: TsProtoCodec<T>, message: MessageShape<Desc>): T {
  return codec.decode(toBinary(schema, message));
}
