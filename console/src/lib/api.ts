// The clients of the public API over grpc-web, on the page's own origin (the gateway serves
// the console), generated from protos/ by protoc-gen-es. Every call carries the token and a deadline.
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { AdminService } from "../gen/mivaa/admin/v1/admin_service_pb";
import { AnswerService } from "../gen/mivaa/answer/v1/answer_service_pb";
import { ExtractorService } from "../gen/mivaa/extractor/v1/extractor_service_pb";
import { SearchService } from "../gen/mivaa/search/v1/search_service_pb";
import { EmbedderService } from "../gen/mivaa/embedder/v1/embedder_service_pb";
import { ImageAnalysisService } from "../gen/mivaa/images/v1/image_analysis_service_pb";

export const CALL_TIMEOUT_MS = 30_000;
export const STREAM_TIMEOUT_MS = 30 * 60_000;

export function makeClients(token: string, baseUrl = window.location.origin) {
  const authorize: Interceptor = (next) => (request) => {
    request.header.set("authorization", `Bearer ${token}`);
    return next(request);
  };
  const transport = createGrpcWebTransport({
    baseUrl,
    interceptors: [authorize],
    defaultTimeoutMs: CALL_TIMEOUT_MS,
  });
  return {
    token,
    baseUrl,
    extractor: createClient(ExtractorService, transport),
    search: createClient(SearchService, transport),
    answer: createClient(AnswerService, transport),
    embedder: createClient(EmbedderService, transport),
    /** Properties, colours, text, tags and look-alikes of a stored image (served by the extractor). */
    images: createClient(ImageAnalysisService, transport),
    /** Statistics, retries, queues, system health and usage (admin scope). */
    admin: createClient(AdminService, transport),
  };
}

export type Clients = ReturnType<typeof makeClients>;
