// The retry policy of clients/service_config.json, for Connect: connect-node
// has no gRPC service config, so this interceptor does what grpc does with it.
//
// - waitForReady: while the gateway cannot be reached (connection refused,
//   name not resolved), the call waits for it, retrying with backoff until its
//   deadline passes; these tries were never sent, so they are not attempts.
// - retryPolicy: a call that failed with a retryable code (UNAVAILABLE,
//   RESOURCE_EXHAUSTED) is sent again, up to maxAttempts in all, after a random
//   delay below the exponential backoff (initialBackoff * multiplier^n, at most
//   maxBackoff). A deadline that passes while waiting ends the call with
//   DEADLINE_EXCEEDED.
// - retryThrottling: failures take a token, successes give back tokenRatio;
//   below half of maxTokens the transport stops retrying until calls succeed
//   again, so a struggling gateway is not flooded with retries.
//
// Unary calls only: a stream's messages cannot be replayed.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { serviceConfig } from "./gen/service_config.js";

export interface RetryPolicy {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  backoffMultiplier: number;
  retryableCodes: Code[];
}

export interface RetryThrottling {
  maxTokens: number;
  tokenRatio: number;
}

/** "0.2s" (a google.protobuf.Duration in JSON) in milliseconds. */
function durationMs(duration: string): number {
  const match = /^(\d+(?:\.\d+)?)s$/.exec(duration);
  if (match === null) {
    throw new Error(`not a duration: ${JSON.stringify(duration)}`);
  }
  return Number(match[1]) * 1000;
}

/** "UNAVAILABLE" -> Code.Unavailable. */
function code(name: string): Code {
  const found = Object.entries(Code).find(
    ([key, value]) => typeof value === "number" && key.toLowerCase() === name.replaceAll("_", "").toLowerCase(),
  );
  if (found === undefined) {
    throw new Error(`not a gRPC status code: ${name}`);
  }
  return found[1] as Code;
}

const [methodConfig] = serviceConfig.methodConfig;
const policy = methodConfig.retryPolicy;

/** The retry policy of the shared service config (every datagw service has the same). */
export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: policy.maxAttempts,
  initialBackoffMs: durationMs(policy.initialBackoff),
  maxBackoffMs: durationMs(policy.maxBackoff),
  backoffMultiplier: policy.backoffMultiplier,
  retryableCodes: policy.retryableStatusCodes.map(code),
};

/** The retry throttling of the shared service config. */
export const defaultRetryThrottling: RetryThrottling = { ...serviceConfig.retryThrottling };

// The errors of a call that never reached the gateway (Node's codes, anywhere
// in the error's cause chain).
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

function neverSent(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e = err; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    if ("code" in e && typeof e.code === "string" && NOT_CONNECTED.has(e.code)) {
      return true;
    }
  }
  return false;
}

/** The call's deadline (ms since the epoch) from the grpc-timeout header Connect sets. */
function deadlineOf(header: Headers, now: number): number | undefined {
  const match = /^(\d+)([HMSmun])$/.exec(header.get("grpc-timeout") ?? "");
  if (match === null) {
    return undefined;
  }
  const unitMs = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 }[match[2] as "H"];
  return now + Number(match[1]) * unitMs;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = (): void => {
      clearTimeout(timer);
      reject(ConnectError.from(signal.reason, Code.Canceled));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", abort);
      resolve();
    }, ms);
    signal.addEventListener("abort", abort, { once: true });
  });
}

/**
 * Retries unary calls as the gRPC service config says (see the top of this
 * file). Use one per transport: its throttling counts that transport's calls.
 */
export function retryInterceptor(
  retry: RetryPolicy = defaultRetryPolicy,
  throttling: RetryThrottling = defaultRetryThrottling,
): Interceptor {
  const retryable = new Set(retry.retryableCodes);
  let tokens = throttling.maxTokens;
  return (next) => async (req) => {
    if (req.stream) {
      return await next(req);
    }
    const deadline = deadlineOf(req.header, Date.now());
    let attempts = 0;
    let backoffMs = retry.initialBackoffMs;
    for (;;) {
      try {
        const res = await next(req);
        tokens = Math.min(throttling.maxTokens, tokens + throttling.tokenRatio);
        return res;
      } catch (err) {
        const waiting = neverSent(err);
        if (req.signal.aborted || !retryable.has(ConnectError.from(err).code)) {
          throw err;
        }
        if (!waiting) {
          attempts += 1;
          tokens = Math.max(0, tokens - 1);
          if (attempts >= retry.maxAttempts || tokens <= throttling.maxTokens / 2) {
            throw err;
          }
        }
        const delayMs = Math.random() * Math.min(backoffMs, retry.maxBackoffMs);
        backoffMs *= retry.backoffMultiplier;
        // Past the deadline this rejects with DEADLINE_EXCEEDED, as grpc does.
        await sleep(delayMs, req.signal);
        if (deadline !== undefined) {
          // The gateway gets the time that is left, not the whole timeout again.
          req.header.set("grpc-timeout", `${Math.max(1, Math.floor(deadline - Date.now()))}m`);
        }
      }
    }
  };
}
