// Whether a check takes time in proportion to its input, measured in a way
// that holds on a busy machine. Not a time limit, which other work can push
// any run past, and not wall-clock time at all: a long run on a loaded machine
// is interrupted for other processes many times, a short one hardly at all,
// so the wall-clock ratio of the two grows with the load. The runs happen in
// a process of their own, timed in its CPU time.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

/** Input sizes grow this many times: a linear check then takes about 16 times as long, a quadratic one 256. */
export const growthFactor = 16;

/** Below this growth a check counts as linear: four times the linear growth, a quarter of the quadratic. */
export const linearGrowthBound = growthFactor * 4;

/** The program's compiled config parsers (the suite's global setup builds bin/ before any test runs). */
export const compiledParsers = join(__dirname, "..", "..", "bin", "src", "configParsers.js");

/** The program's compiled config loader (parseConfig), built with the parsers. */
export const compiledConfig = join(__dirname, "..", "..", "bin", "src", "config.js");

/**
 * For each input maker: the CPU time `check` takes on an input of size
 * `growthFactor * n` over its time on size `n`, the fastest of `rounds`
 * alternating runs at each size. `check` and the makers are JavaScript source
 * (they run in the other process): `check` as `(m, input) => …`, where `m`
 * is `moduleFile` required, and each maker as `(n) => input`. Inputs are made
 * before the clock starts.
 */
export function growth(moduleFile: string, check: string, makers: string[], n: number, rounds = 3): number[] {
    const script = `
        const m = require(${JSON.stringify(moduleFile)});
        const check = ${check};
        const cpu = () => { const used = process.cpuUsage(); return (used.user + used.system) / 1000; };
        const ratios = [${makers.join(", ")}].map((make) => {
            const small = make(${n});
            const large = make(${n * growthFactor});
            let fastestSmall = Infinity;
            let fastestLarge = Infinity;
            for (let round = 0; round < ${rounds}; round++) {
                let started = cpu();
                check(m, small);
                fastestSmall = Math.min(fastestSmall, cpu() - started);
                started = cpu();
                check(m, large);
                fastestLarge = Math.min(fastestLarge, cpu() - started);
            }
            return fastestLarge / Math.max(fastestSmall, 0.001);
        });
        process.stdout.write(JSON.stringify(ratios));`;
    const run = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 120_000 });
    if (run.status !== 0) {
        throw new Error(`the growth measurement failed (${run.error?.message ?? `exit ${run.status}`}):\n${run.stderr}`);
    }
    return JSON.parse(run.stdout) as number[];
}
