// @ts-check
// Answers the stand-in `pulumi`'s calls (fakePulumiCalls.js) for the shell
// wrapper fakeCli.ts writes, on a loopback port, so that a call costs a shell
// and not a Node.js start. Started by fakeCliPath; it writes its port to the
// file named by its argument, and ends, removing that file, when its stdin
// closes (the test process ended) or on SIGTERM, SIGINT or SIGHUP; it also
// ends when the file is removed (its folder was).
//
// A call, from the wrapper: NUL-terminated fields: the argument count, the
// arguments, NAME=value for each variable of envNames that is set, an empty
// field, the caller's working folder, then "1" or "0" (stdin is a terminal).
// The reply is a line: `node` (the call needs a process of its own:
// fake-pulumi.js), `stdin` (send stdin in Base64 and a NUL; then the result
// follows), or `result CODE`, then a line of stdout in Base64 and one of stderr.
"use strict";
const { existsSync, renameSync, rmSync, writeFileSync } = require("node:fs");
const { createServer } = require("node:net");
const { answer, needsOwnProcess, readsStdin } = require("./fakePulumiCalls.js");

const portFile = process.argv[2];

const server = createServer((socket) => {
    /** @type {Buffer} */
    let buffer = Buffer.alloc(0);
    /** @type {{ args: string[], env: Record<string, string>, cwd: string, tty: boolean } | undefined} */
    let call;
    let replied = false;

    /** The next NUL-terminated field, if it has arrived. */
    const field = (/** @type {{ at: number }} */ cursor) => {
        const end = buffer.indexOf(0, cursor.at);
        if (end < 0) return undefined;
        const text = buffer.subarray(cursor.at, end).toString("utf8");
        cursor.at = end + 1;
        return text;
    };

    /** The call's header, once all of it has arrived. */
    const header = () => {
        const cursor = { at: 0 };
        const count = field(cursor);
        if (count === undefined) return undefined;
        const args = [];
        for (let i = 0; i < Number(count); i++) {
            const arg = field(cursor);
            if (arg === undefined) return undefined;
            args.push(arg);
        }
        /** @type {Record<string, string>} */
        const env = {};
        for (;;) {
            const pair = field(cursor);
            if (pair === undefined) return undefined;
            if (pair === "") break;
            const at = pair.indexOf("=");
            env[pair.slice(0, at)] = pair.slice(at + 1);
        }
        const cwd = field(cursor);
        const tty = field(cursor);
        if (cwd === undefined || tty === undefined) return undefined;
        buffer = buffer.subarray(cursor.at);
        return { args, env, cwd, tty: tty === "1" };
    };

    const reply = (/** @type {string} */ stdin) => {
        if (call === undefined) return;
        replied = true;
        let result;
        try {
            result = answer({ args: call.args, env: call.env, stdin, cwd: call.cwd });
            if (result.waits !== undefined) {
                throw new Error("a call that needs a process of its own reached the server"); // needsOwnProcess sends these to fake-pulumi.js
            }
        } catch (error) {
            result = { stdout: "", stderr: `fake pulumi server: ${String(/** @type {Error} */ (error).stack ?? error)}\n`, code: 99 };
        }
        const base64 = (/** @type {string} */ text) => Buffer.from(text).toString("base64");
        socket.end(`result ${result.code}\n${base64(result.stdout)}\n${base64(result.stderr)}\n`);
    };

    socket.on("data", (chunk) => {
        if (replied) return;
        buffer = Buffer.concat([buffer, chunk]);
        if (call === undefined) {
            call = header();
            if (call === undefined) return;
            if (needsOwnProcess(call.args, call.env)) {
                replied = true;
                socket.end("node\n");
                return;
            }
            if (!readsStdin(call.args) || call.tty) {
                reply("");
                return;
            }
            socket.write("stdin\n");
        }
        const stdin = field({ at: 0 });
        if (stdin !== undefined) {
            reply(Buffer.from(stdin, "base64").toString("utf8"));
        }
    });
    socket.on("error", () => socket.destroy());
});

server.listen(0, "127.0.0.1", () => {
    const address = /** @type {import("node:net").AddressInfo} */ (server.address());
    writeFileSync(`${portFile}.tmp`, `${address.port}\n`);
    renameSync(`${portFile}.tmp`, portFile); // the wrapper never reads half a port
    setInterval(() => existsSync(portFile) || process.exit(0), 200);
});
// Bounded: ends with the test process (stdin closes) or its folder (the port file goes).
// Either way the port file goes, so that a later call in a leftover folder goes to fake-pulumi.js at once.
const end = () => {
    rmSync(portFile, { force: true });
    process.exit(0);
};
process.stdin.on("end", end).resume();
process.on("SIGTERM", end).on("SIGINT", end).on("SIGHUP", end);
