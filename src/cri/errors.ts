// berth's error kinds as gRPC status codes, the one place a CRI call's failure gets its code:
// kubelet tests NOT_FOUND (an object already gone) by code, the rest it shows by message.

import { status } from '@grpc/grpc-js';
import { BerthError, errorMessage } from '../errors.js';

/** A failure whose gRPC code is the CRI's own, with no berth kind (ExecSync's DEADLINE_EXCEEDED). */
export class CriStatusError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

export function grpcCode(err: unknown): status {
  if (err instanceof CriStatusError) return err.code;
  if (!(err instanceof BerthError)) return status.UNKNOWN;
  switch (err.kind) {
    case 'not-found':
      return status.NOT_FOUND;
    case 'conflict':
      return status.FAILED_PRECONDITION;
    case 'invalid':
      return status.INVALID_ARGUMENT;
    case 'unsupported':
      return status.INVALID_ARGUMENT;
    case 'forbidden':
      return status.PERMISSION_DENIED;
    case 'unauthorized':
      return status.UNAUTHENTICATED;
    case 'too-large':
      return status.RESOURCE_EXHAUSTED;
    case 'not-implemented':
      return status.UNIMPLEMENTED;
    case 'unavailable':
      return status.UNAVAILABLE;
    default:
      return status.INTERNAL;
  }
}

/** The error as grpc-js sends it: its code and message. */
export function grpcError(err: unknown): { code: status; details: string } {
  return { code: grpcCode(err), details: errorMessage(err) };
}
