import "server-only";
import { connectors } from "../connectors";
import { chargingStore, CsmsApiError, CsmsUnreachableError, type CsmsClient, type CsmsLiveView } from "../connectors/csms";
import { AppError } from "../errors";

/** The running charging connector, or a clear refusal when there is none. */
export const csmsLink = (): CsmsLiveView => {
  const link = connectors()?.csms;
  if (!link) throw new AppError("PRECONDITION_FAILED", "The charging connector is not running (CSMS_MANAGER_URL is off, or connectors were not started).");
  return link;
};

/** The store the running connector writes (the process-wide one when none runs). */
export const currentStore = () => connectors()?.csms?.store ?? chargingStore();

/** A manager error in the words and codes the browser gets. */
export const toAppError = (error: unknown, what = "That"): unknown => {
  if (error instanceof CsmsUnreachableError) return new AppError("PRECONDITION_FAILED", `CSMS manager unreachable (${error.reason}). Check that it is running at ${error.url}.`);
  if (!(error instanceof CsmsApiError)) return error;
  switch (error.status) {
    case 400:
    case 422: {
      const field = error.fields[0];
      const detail = error.fields.length ? error.fields.map((f) => (f.path ? `${f.path}: ${f.message}` : f.message)).join("; ") : error.message;
      return new AppError("BAD_REQUEST", detail, field?.path || undefined);
    }
    case 404:
      return new AppError("NOT_FOUND", error.message || `${what} does not exist.`);
    case 409:
      return new AppError("CONFLICT", error.message);
    case 401:
    case 403:
      return new AppError("PRECONDITION_FAILED", "The CSMS manager refused the console's API token (check CSMS_API_TOKEN).");
    default:
      return new AppError("PRECONDITION_FAILED", `CSMS manager error (HTTP ${error.status}): ${error.message}`);
  }
};

/** Runs a manager call with errors mapped for tRPC. */
export const withCsms = async <T>(fn: (client: CsmsClient) => Promise<T>, what?: string): Promise<T> => {
  const { client } = csmsLink();
  try {
    return await fn(client);
  } catch (error) {
    throw toAppError(error, what);
  }
};
