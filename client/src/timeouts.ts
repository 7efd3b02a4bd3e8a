/**
 * Every network call the package makes has a time limit: a Secrets Manager
 * or a Qredo that never answers must turn into an error, not a request
 * pending forever (and, for the credential store, a stuck read shared by
 * every caller).
 */

/** Default limit on each Secrets Manager read and each HTTP attempt. */
export const defaultTimeoutMs = 30_000;
/** setTimeout's ceiling: a longer delay fires at once. */
const maxTimerMs = 2_147_483_647;

/** Checks a duration option; the message names the class, the option and what is allowed. */
export function checkDuration(owner: string, name: string, value: unknown, { allowZero }: { allowZero: boolean }): number {
    const ok =
        typeof value === "number" && Number.isFinite(value) && (allowZero ? value >= 0 : value > 0) && (allowZero || value <= maxTimerMs);
    if (!ok) {
        const range = allowZero ? "0 or more" : `more than 0 and at most ${maxTimerMs}`;
        throw new Error(
            `${owner}: ${name} must be a finite number of milliseconds, ${range}; got ${typeof value === "number" ? String(value) : typeof value}`,
        );
    }
    return value;
}

/** The error a call that ran out of time rejects with. */
export class TimeoutError extends Error {
    override readonly name = "TimeoutError";
}

/**
 * Runs `call` with an abort signal that fires after `ms`, and rejects after
 * `ms` even if `call` ignores the signal. `deadline`, a signal of the same
 * length that the caller keeps using afterwards, counts as this timeout too.
 */
export async function withTimeout<T>(
    what: string,
    ms: number,
    call: (signal: AbortSignal) => Promise<T>,
    deadline?: AbortSignal,
): Promise<T> {
    const controller = new AbortController();
    const error = new TimeoutError(`${what} did not finish within ${ms} ms (timeoutMs)`);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
            controller.abort(error);
            reject(error);
        }, ms);
    });
    try {
        return await Promise.race([call(controller.signal), expired]);
    } catch (thrown) {
        throw controller.signal.aborted || deadline?.aborted === true ? error : thrown;
    } finally {
        clearTimeout(timer);
    }
}
