// UploadDocument is a client stream; browsers cannot stream a request body over fetch, and
// connect-web's grpc-web transport sends server streams only. A client stream whose messages
// are all known up front is one grpc-web request whose body holds every envelope (metadata,
// then the byte chunks): Envoy's grpc_web filter passes the envelopes on as the stream.
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { ConnectError, Code } from "@connectrpc/connect";
import { encodeEnvelopes } from "@connectrpc/connect/protocol";
import {
  requestHeader,
  trailerFlag,
  trailerParse,
  validateResponse,
  validateTrailer,
} from "@connectrpc/connect/protocol-grpc-web";
import {
  UploadDocumentRequestSchema,
  UploadDocumentResponseSchema,
  type UploadDocumentResponse,
} from "../gen/mivaa/extractor/v1/extractor_service_pb";
import type { ProcessingOptionsSchema } from "../gen/mivaa/jobs/v1/processing_options_pb";

const CHUNK_BYTES = 256 * 1024;
const UPLOAD_TIMEOUT_MS = 10 * 60_000;

export interface UploadInput {
  filename: string;
  bytes: Uint8Array;
  password?: string;
  labels?: string[];
  /** "batches/{id}" to upload into, "" for none. */
  batch?: string;
  /** How to process it; unset: the batch's options, else the server's defaults. */
  options?: MessageInitShape<typeof ProcessingOptionsSchema>;
  /** "documents/{id}" whose next version this upload becomes; "" for a new document. */
  parent?: string;
}

export function uploadBody(input: UploadInput): Uint8Array {
  const messages = [
    create(UploadDocumentRequestSchema, {
      content: {
        case: "metadata",
        value: {
          filename: input.filename,
          password: input.password ?? "",
          labels: input.labels ?? [],
          batch: input.batch ?? "",
          options: input.options,
          parent: input.parent ?? "",
        },
      },
    }),
  ];
  for (let offset = 0; offset < input.bytes.length; offset += CHUNK_BYTES) {
    messages.push(
      create(UploadDocumentRequestSchema, {
        content: { case: "chunk", value: input.bytes.subarray(offset, offset + CHUNK_BYTES) },
      }),
    );
  }
  return encodeEnvelopes(...messages.map((m) => ({ flags: 0, data: toBinary(UploadDocumentRequestSchema, m) })));
}

function* envelopes(body: Uint8Array): Generator<{ flags: number; data: Uint8Array }> {
  let offset = 0;
  while (offset + 5 <= body.length) {
    const length = new DataView(body.buffer, body.byteOffset + offset + 1, 4).getUint32(0);
    yield { flags: body[offset], data: body.subarray(offset + 5, offset + 5 + length) };
    offset += 5 + length;
  }
}

export async function uploadDocument(
  baseUrl: string,
  token: string,
  input: UploadInput,
  signal?: AbortSignal,
): Promise<UploadDocumentResponse> {
  const headers = requestHeader(true, UPLOAD_TIMEOUT_MS, { authorization: `Bearer ${token}` }, false);
  const response = await fetch(`${baseUrl}/mivaa.extractor.v1.ExtractorService/UploadDocument`, {
    method: "POST",
    headers,
    body: uploadBody(input) as BodyInit,
    signal,
  });
  const { headerError } = validateResponse(response.status, response.headers);
  if (headerError) throw headerError;
  const body = new Uint8Array(await response.arrayBuffer());
  let message: UploadDocumentResponse | undefined;
  let trailer: Headers | undefined;
  for (const envelope of envelopes(body)) {
    if ((envelope.flags & trailerFlag) === trailerFlag) trailer = trailerParse(envelope.data);
    else message = fromBinary(UploadDocumentResponseSchema, envelope.data);
  }
  validateTrailer(trailer ?? new Headers(), response.headers);
  if (!message) throw new ConnectError("the upload ended without a response", Code.Internal);
  return message;
}
