// The admin screen's logic: which states a job filter asks ListJobs for, and what a service's
// health check came back as, in words.
import { Code, ConnectError } from "@connectrpc/connect";
import { HealthCheckResponse_ServingStatus as Serving } from "../gen/grpc/health/v1/health_pb";
import { JobState } from "../gen/mivaa/jobs/v1/job_pb";

/** The gateway routes a health Check with this header to the service it names (admin scope). */
export const HEALTH_SERVICE_HEADER = "x-mivaa-health-service";
/** Every service a gateway may route; ocr and answer are optional (a gateway without them says so). */
export const SERVICES = ["extractor", "search", "embedder", "ocr", "answer"] as const;

export const JOB_FILTERS: { label: string; states: JobState[] }[] = [
  { label: "All jobs", states: [] },
  { label: "Active (queued or running)", states: [JobState.QUEUED, JobState.RUNNING] },
  { label: "With problems (failed or partly)", states: [JobState.FAILED, JobState.PARTIALLY_SUCCEEDED] },
  { label: "Queued", states: [JobState.QUEUED] },
  { label: "Running", states: [JobState.RUNNING] },
  { label: "Succeeded", states: [JobState.SUCCEEDED] },
  { label: "Partly succeeded", states: [JobState.PARTIALLY_SUCCEEDED] },
  { label: "Failed", states: [JobState.FAILED] },
  { label: "Cancelled", states: [JobState.CANCELLED] },
];

export type HealthWord = "serving" | "not serving" | "not run here" | "unreachable" | "unknown";

export function healthWord(result: Serving | unknown): HealthWord {
  if (result instanceof ConnectError) {
    // The gateway answers a service it does not route with 404 (UNIMPLEMENTED).
    if (result.code === Code.Unimplemented) return "not run here";
    if ([Code.Unavailable, Code.DeadlineExceeded].includes(result.code)) return "unreachable";
    return "unknown";
  }
  if (result === Serving.SERVING) return "serving";
  if (result === Serving.NOT_SERVING) return "not serving";
  return "unknown";
}
