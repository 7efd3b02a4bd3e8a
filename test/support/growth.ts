// Whether a check takes time in proportion to its input, measured in a way
// that holds on a busy machine: not a time limit (other work can stretch any
// run past one), but how the time grows when the input grows.

/** Input sizes grow this many times: a linear check then takes about 8 times as long, a quadratic one 64. */
export const growthFactor = 8;

/**
 * Time of `check` on an input of size `factor * n` over its time on size `n`:
 * the fastest of `rounds` alternating runs at each size (other work only ever
 * adds time, so the fastest run is the least disturbed one). Inputs are made
 * before the clock starts.
 */
export function growth<T>(make: (n: number) => T, check: (input: T) => unknown, n: number, rounds = 3): number {
    const small = make(n);
    const large = make(n * growthFactor);
    let fastestSmall = Infinity;
    let fastestLarge = Infinity;
    for (let round = 0; round < rounds; round++) {
        let started = performance.now();
        check(small);
        fastestSmall = Math.min(fastestSmall, performance.now() - started);
        started = performance.now();
        check(large);
        fastestLarge = Math.min(fastestLarge, performance.now() - started);
    }
    return fastestLarge / Math.max(fastestSmall, 0.001);
}

/** Below this growth a check counts as linear: three times the linear growth, a third of the quadratic. */
export const linearGrowthBound = growthFactor * 3;
