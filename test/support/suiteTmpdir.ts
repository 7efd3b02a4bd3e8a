// Where the suite's throwaway folders go: one folder per run, which the run
// removes when it ends (also when stopped), and a later run removes if the
// run was killed first. Test files make their folders in it (os.tmpdir()).
//
// Its place: under TMPDIR when that is set; else, where /dev/shm is a
// writable tmpfs that lets files run (the stand-in `pulumi` and `npm` run
// from there), in RAM; else the system's temporary folder. Creating a file on
// a virtual machine's disk can cost a millisecond of system time (it does on
// the two-core machine the suite's figures come from), and the suite creates
// thousands: project copies, stand-in states, key files. In RAM a file costs
// a hundredth of that.
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ramRoot = "/dev/shm";
const prefix = "qredo-partner-keys-tests-";

/** Whether /proc/mounts says /dev/shm is a tmpfs the suite can write to and run files from. */
export function ramMountUsable(mounts: string): boolean {
    const fields = mounts
        .split("\n")
        .map((line) => line.split(" "))
        .filter((f) => f[1] === ramRoot)
        .at(-1); // the last mount on a point is the one in effect
    const options = (fields?.[3] ?? "").split(",");
    return fields?.[2] === "tmpfs" && options.includes("rw") && !options.includes("noexec");
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM"; // someone else's: running
    }
}

/**
 * Removes the folders of runs that were killed before they could clean up:
 * each folder's name carries its run's process id. A folder changed in the
 * last ten minutes stays, whatever its process id says (a run in another
 * container that shares the folder has process ids this one cannot see; a
 * running suite adds and removes folders in its own all the time).
 */
export function removeLeftovers(root: string, now = Date.now()): void {
    for (const name of readdirSync(root)) {
        const pid = name.startsWith(prefix) ? Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]) : NaN;
        if (pid > 0 && pid !== process.pid && !alive(pid)) {
            try {
                if (now - statSync(join(root, name)).mtimeMs < 10 * 60_000) {
                    continue;
                }
                rmSync(join(root, name), { recursive: true, force: true });
            } catch {
                // another user's: theirs to remove
            }
        }
    }
}

/** The folder the run's folder goes in; a TMPDIR the tests cannot use is an error that says so. */
export function suiteTmpRoot(env: NodeJS.ProcessEnv = process.env, mounts = readMounts()): string {
    if (env.TMPDIR) {
        try {
            if (!statSync(env.TMPDIR).isDirectory()) {
                throw new Error("not a folder");
            }
            accessSync(env.TMPDIR, constants.W_OK | constants.X_OK);
        } catch {
            throw new Error(`TMPDIR is ${env.TMPDIR}, which is not a folder the tests can write to: create it, or unset TMPDIR.`);
        }
        return env.TMPDIR;
    }
    return ramMountUsable(mounts) ? ramRoot : tmpdir();
}

function readMounts(): string {
    try {
        return readFileSync("/proc/mounts", "utf8");
    } catch {
        return ""; // not Linux
    }
}

/** A fresh folder for this run's temporary files (after removing killed runs' folders). */
export function suiteTmpdir(root = suiteTmpRoot()): string {
    try {
        removeLeftovers(root);
    } catch {
        // unreadable: nothing to sweep
    }
    return mkdtempSync(join(root, `${prefix}${process.pid}-`));
}
