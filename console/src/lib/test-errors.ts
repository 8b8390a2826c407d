// For tests: a ConnectError carrying a google.rpc.ErrorInfo as the gateway sends it (grpc-status-details-bin).
import { Code, ConnectError } from "@connectrpc/connect";

/** ErrorInfo on the wire: reason (1), domain (2), metadata map entries (3). */
export function errorInfoBytes(reason: string, metadata: Record<string, string> = {}): Uint8Array {
  const enc = new TextEncoder();
  const field = (n: number, bytes: Uint8Array) => [(n << 3) | 2, bytes.length, ...bytes];
  const out = [...field(1, enc.encode(reason)), ...field(2, enc.encode("mivaa"))];
  for (const [k, v] of Object.entries(metadata)) {
    out.push(...field(3, new Uint8Array([...field(1, enc.encode(k)), ...field(2, enc.encode(v))])));
  }
  return new Uint8Array(out);
}

export function refusal(reason: string, message: string, code = Code.InvalidArgument, metadata: Record<string, string> = {}) {
  const error = new ConnectError(message, code);
  error.details.push({ type: "google.rpc.ErrorInfo", value: errorInfoBytes(reason, metadata) });
  return error;
}
