// The deploy script's pure parts, in process: key file decoding, quotes,
// stack-name suggestions, npm-swallowed flags, key-state planning, child
// environments, and the atomic public key write.
import { execFileSync } from "node:child_process";
import type * as NodeFs from "node:fs";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { decodeText, looksLikeApiKey, readApiKeyFile, unquote } from "../scripts/lib/apiKeyInput.js";
import { installedYaml, passphraseEnv, passphraseSetting, shownBackend, stackFileHoldsApiKey } from "../scripts/lib/backend.js";
import { pulumiEnv, plainEnv } from "../scripts/lib/childEnv.js";
import { PulumiCli } from "../scripts/lib/cli.js";
import { parseOptions, stackEnvironment, suggestStack } from "../scripts/lib/deployOptions.js";
import { planKeyChange } from "../scripts/lib/keyState.js";
import { commandWords, refuseSwallowedPulumiFlags } from "../scripts/lib/npmFlags.js";
import { writeAtomically } from "../scripts/lib/publicKeyFile.js";
import { passphraseTarget, refusePlainApiKey } from "../scripts/pulumi.js";
import { parseSecretNamePrefix } from "../src/configParsers";
import { makeApiKey } from "./support/providers.js";

const fs = createRequire(__filename)("node:fs") as typeof NodeFs;
const dir = mkdtempSync(join(tmpdir(), "qredo-keys-deploy-lib-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

describe("the passphrase the user set, as pulumi takes it", () => {
    const user = mkdtempSync(join(tmpdir(), "qredo-keys-user-"));
    afterAll(() => rmSync(user, { recursive: true, force: true }));
    const file = (name: string, text: string) => (writeFileSync(join(user, name), text), name);

    it("reads a relative file from the user's folder (INIT_CWD) and hands pulumi, which runs in the project, its absolute path", async () => {
        vi.stubEnv("INIT_CWD", user);
        vi.stubEnv("PULUMI_CONFIG_PASSPHRASE", undefined);
        vi.stubEnv("PULUMI_CONFIG_PASSPHRASE_FILE", file("pass.txt", "correct horse\n"));
        expect(passphraseSetting(process.env)).toEqual({ source: "file", file: join(user, "pass.txt"), empty: false });
        await expect(passphraseEnv({ stack: "sandbox", newStack: true, code: 2 })).resolves.toEqual({
            PULUMI_CONFIG_PASSPHRASE_FILE: join(user, "pass.txt"),
        });
    });
    it("counts a file empty as Go's TrimSpace does (U+0085 included), and an empty file variable as unset", () => {
        vi.stubEnv("INIT_CWD", user);
        expect(passphraseSetting({ PULUMI_CONFIG_PASSPHRASE_FILE: file("nel.txt", "\u0085\n") })).toMatchObject({ empty: true });
        expect(passphraseSetting({ PULUMI_CONFIG_PASSPHRASE_FILE: file("nbsp.txt", "\u00a0\t") })).toMatchObject({ empty: true });
        expect(passphraseSetting({ PULUMI_CONFIG_PASSPHRASE_FILE: file("x.txt", " x ") })).toMatchObject({ empty: false });
        expect(passphraseSetting({ PULUMI_CONFIG_PASSPHRASE_FILE: "" })).toEqual({ source: "none" });
        expect(passphraseSetting({ PULUMI_CONFIG_PASSPHRASE: "", PULUMI_CONFIG_PASSPHRASE_FILE: "x.txt" })).toEqual({
            source: "variable",
            empty: true,
        });
    });
    it("refuses a file that cannot be read, for any stack, naming the path and never a content", async () => {
        vi.stubEnv("INIT_CWD", user);
        vi.stubEnv("PULUMI_CONFIG_PASSPHRASE", undefined);
        vi.stubEnv("PULUMI_CONFIG_PASSPHRASE_FILE", "missing.txt");
        await expect(passphraseEnv({ stack: "sandbox", newStack: false, code: 2 })).rejects.toThrow(
            `PULUMI_CONFIG_PASSPHRASE_FILE names ${join(user, "missing.txt")}, which cannot be read (ENOENT).`,
        );
        // a FIFO would block the read (and pulumi reads the file once per command): refused without opening it
        execFileSync("mkfifo", [join(user, "fifo")]);
        vi.stubEnv("PULUMI_CONFIG_PASSPHRASE_FILE", "fifo");
        await expect(passphraseEnv({ stack: "sandbox", newStack: true, code: 2 })).rejects.toThrow(
            "which cannot be read (not a regular file)",
        );
        // a symlink to /dev/stdin, or stdin's own file reached another way, is refused too (in any words)
        fs.symlinkSync("/dev/stdin", join(user, "to-stdin"));
        vi.stubEnv("PULUMI_CONFIG_PASSPHRASE_FILE", "to-stdin");
        await expect(passphraseEnv({ stack: "sandbox", newStack: false, code: 2 })).rejects.toThrow("PULUMI_CONFIG_PASSPHRASE_FILE names");
        const keyFile = join(user, "apikey-on-stdin");
        writeFileSync(keyFile, "not a passphrase\n");
        const probe = `process.stdout.write(JSON.stringify(require(${JSON.stringify(require.resolve("../scripts/lib/backend.js"))}).passphraseSetting({ PULUMI_CONFIG_PASSPHRASE_FILE: "/proc/self/root/dev/stdin" })))`;
        const seen = JSON.parse(
            execFileSync(process.execPath, ["-e", probe], { stdio: [fs.openSync(keyFile, "r"), "pipe", "pipe"] }).toString(),
        );
        expect(seen.unreadable).toBe("stdin or a file descriptor, which every pulumi command opens anew");
        vi.stubEnv("PULUMI_CONFIG_PASSPHRASE_FILE", ".");
        await expect(passphraseEnv({ stack: "sandbox", newStack: true, code: 2 })).rejects.toThrow("which cannot be read (a directory)");
    });
});

describe("an API key typed on the command line", () => {
    const key = makeApiKey();
    const message = (argv: string[], env: Record<string, string | undefined>) => {
        for (const [name, value] of Object.entries(env)) {
            vi.stubEnv(name, value);
        }
        try {
            parseOptions(argv, {});
        } catch (error) {
            return (error as Error).message;
        }
        return undefined;
    };
    it("is refused as a second stack name too, never repeated; the message says npm echoed it unless it ran silent, and logged it", () => {
        const npm = {
            npm_lifecycle_event: "deploy",
            npm_config_cache: "/home/me/.npm",
            npm_config_logs_dir: undefined,
            npm_config_logs_max: undefined,
        };
        const debugLog = "npm also wrote the command line to its debug log: delete those logs (rm /home/me/.npm/_logs/*-debug-*.log).";
        const loud = message(["sandbox", key], { ...npm, npm_config_loglevel: "notice" });
        expect(loud).toContain("an argument looks like an API key; it is not repeated here, and nothing was run.");
        expect(loud).toContain("npm printed the command line above this message, key included: clear the terminal's scrollback");
        expect(loud).toContain(debugLog);
        expect(loud).not.toContain(key.slice(0, 16));
        const quiet = message([key], { ...npm, npm_config_loglevel: "silent" });
        expect(quiet).toContain("the stack name looks like an API key");
        expect(quiet).not.toContain("npm printed");
        expect(quiet).toContain(debugLog); // npm logs the command line whatever its log level
        expect(message([key], { ...npm, npm_config_logs_max: "0" })).not.toContain("debug log"); // logs-max=0: npm wrote none
        vi.stubEnv("npm_config_logs_max", undefined);
        const ownLogs = message([key], { ...npm, npm_config_logs_dir: "/var/log/my npm" });
        expect(ownLogs).toContain("delete those logs (rm '/var/log/my npm'/*-debug-*.log).");
        const direct = message([key], { npm_lifecycle_event: undefined }); // node scripts/deploy.js
        expect(direct).not.toContain("npm printed");
        expect(direct).not.toContain("debug log");
        expect(direct).toContain("Keys typed on a command line stay in the shell's history: clear that entry.");
    });

    it("kept by npm as the value of --api-key-file= (no --): not echoed, so not said to be, but in npm's debug log", () => {
        vi.stubEnv("npm_lifecycle_event", "deploy");
        vi.stubEnv("npm_config_cache", "/home/me/.npm");
        vi.stubEnv("npm_config_loglevel", "notice");
        vi.stubEnv("npm_config_logs_max", undefined);
        const npmEnv = { npm_lifecycle_event: "deploy", npm_config_api_key_file: key };
        const refused = (() => {
            try {
                parseOptions(["sandbox"], npmEnv);
            } catch (error) {
                return (error as Error).message;
            }
            return "";
        })();
        expect(refused).toContain("npm kept --api-key-file for itself");
        expect(refused).toContain("An argument looks like an API key; it is not repeated here.");
        expect(refused).not.toContain("npm printed");
        expect(refused).toContain("npm also wrote the command line to its debug log");
        expect(refused).not.toContain(key.slice(0, 16));
    });
});

describe("the environment of every pulumi command", () => {
    it("names the passphrase file absolutely, from where the user ran npm (pulumi runs in the project folder)", () => {
        vi.stubEnv("INIT_CWD", "/home/someone/keys");
        vi.stubEnv("PULUMI_CONFIG_PASSPHRASE_FILE", "passphrase.txt");
        const cli = new PulumiCli(1);
        expect(cli.childEnv(["stack", "ls", "--json"]).PULUMI_CONFIG_PASSPHRASE_FILE).toBe("/home/someone/keys/passphrase.txt");
        expect(cli.childEnv(["version"]).PULUMI_CONFIG_PASSPHRASE_FILE).toBeUndefined();
    });
});

describe("npm run pulumi: the API key set in plain text, or on the command line", () => {
    const refused = (argv: string[]) => {
        try {
            refusePlainApiKey(argv);
            return undefined;
        } catch (error) {
            return (error as Error).message;
        }
    };
    it.each([
        ["config", "set", "--stack", "sandbox", "apiKey"],
        ["config", "set", "apiKey", "--stack", "sandbox"],
        ["-s", "sandbox", "config", "set", "qredo-partner-keys:apiKey"],
        ["config", "set", "--stack", "sandbox", "--secret=false", "apiKey"],
        ["config", "set", "--stack", "sandbox", "--plaintext", "apiKey"],
        ["config", "--stack", "sandbox", "set", "apiKey"], // config's own flags before set
        ["config", "--config-file", "stacks/Pulumi.x.yaml", "--stack", "sandbox", "set", "apiKey"],
        ["config", "set", "--color", "never", "--stack", "sandbox", "apiKey"], // a global flag that takes a value
        ["config", "set", "--secret", "--secret=false", "--stack", "sandbox", "apiKey"], // the last occurrence wins
        ["config", "set", "--secret", "--plaintext", "--stack", "sandbox", "apiKey"],
        ["config", "set", "--path", "--stack", "sandbox", '["apiKey"]'],
        ["config", "set", "--path", "--stack", "sandbox", "qredo-partner-keys:apiKey.inner"],
        ["config", "set", "--stack", "sandbox", "qredo-partner-keys:config:apiKey"], // the legacy form of the key
        ["config", "set", "--stack", "sandbox", "apikey"], // another key to pulumi (the program refuses it), in plain text all the same
        ["config", "set", "--stack", "sandbox", "qredo-partner-keys:APIKEY"],
        ["config", "set", "--stack", "sandbox", "api_key"],
        ["config", "set", "--stack", "sandbox", "Api-Key"],
        ["config", "set", "--stack", "sandbox", "apiKeys"],
        ["config", "set", "--path", "--stack", "sandbox", '["API_KEY"]'],
        ["config", "set", "--path", "--stack", "sandbox", ".apiKey"],
        ["config", "set", "--path", "--stack", "sandbox", 'qredo-partner-keys:["apiKey"]'],
        ["--profiling", "--secret", "config", "set", "--stack", "sandbox", "apiKey"], // --secret is --profiling's value
        ["config", "set", "--config-file", "--secret", "--stack", "sandbox", "apiKey"],
        // Read broadly on purpose (pulumi's flags that take a value are many): "apiKey" as a value counts too.
        ["config", "set", "--stack", "sandbox", "--path", "tags.Owner", "apiKey"],
    ])("refuses %s …: it would write the key in plain text into the committed stack file", (...argv) => {
        expect(refused(argv)).toBe(
            "config set apiKey without --secret would write the API key in plain text into stacks/Pulumi.sandbox.yaml, which is committed; nothing was run. Set it encrypted, from stdin:\n    npm run pulumi -- config set --stack sandbox --secret apiKey < apikey\nIf the word apiKey is only part of another setting's value (a tag, a URL), set that entry with config set-all:\n    npm run pulumi -- config set-all --stack sandbox --path --plaintext 'KEY=VALUE'\nor edit its line in stacks/Pulumi.sandbox.yaml.",
        );
    });
    it("names no stack it was not given: the selected one may be any", () => {
        expect(refused(["config", "set", "apiKey"])).toBe(
            "config set apiKey without --secret would write the API key in plain text into stacks/Pulumi.STACK.yaml, which is committed; nothing was run. Set it encrypted, from stdin:\n    npm run pulumi -- config set --stack STACK --secret apiKey < apikey\nIf the word apiKey is only part of another setting's value (a tag, a URL), set that entry with config set-all:\n    npm run pulumi -- config set-all --stack STACK --path --plaintext 'KEY=VALUE'\nor edit its line in stacks/Pulumi.STACK.yaml.",
        );
    });
    it("refuses config set-all with apiKey=VALUE, secret or not: the key would be on pulumi's command line", () => {
        for (const flag of [
            "--plaintext",
            "--secret",
            "--plaintext=apiKey=abc",
            "--plaintext=apikey=abc",
            "--secret=qredo-partner-keys:api_key=abc",
            "--secret=qredo-partner-keys:apiKey=abc",
            '--path --plaintext ["apiKey"]=abc',
        ]) {
            expect(
                refused(
                    ["config", "set-all", "--stack", "production", ...flag.split(" "), "apiKey=abc"].slice(
                        0,
                        flag.includes("=") ? -1 : undefined,
                    ),
                ),
            ).toMatch(
                /^config set-all would put the API key on pulumi's command line; nothing was run\. .*--stack production --secret apiKey < apikey$/s,
            );
        }
    });
    it.each([
        ["config", "set", "--secret", "--stack", "sandbox", "apiKey"],
        ["config", "set", "--stack", "sandbox", "--secret=true", "apiKey"],
        ["config", "set-all", "--plaintext", "keyVersion=2"],
        ["config", "get", "--stack", "sandbox", "apiKey"],
        // A tag whose name or value merely mentions an API key is no API key.
        ["config", "set", "--stack", "sandbox", "--path", "tags.ApiKey-Owner", "payments"],
        ["config", "set", "--stack", "sandbox", "--path", "tags.Note", "Qredo partner apikey"],
        ["config", "set-all", "--stack", "sandbox", "--path", "--plaintext", "tags.ApiKeyOwner=payments"],
        ["config", "set-all", "--stack", "sandbox", "--path", "--plaintext", "tags.apiKeyOwner=payments"], // as config set allows it
        ["config", "set-all", "--stack", "sandbox", "--plaintext", "kmsKeyId=alias/apiKey=x"], // the word in a value: no key on the line
        // What the refusal of config set advises for a tag value with the word in it (a fix the program printed).
        ["config", "set-all", "--stack", "sandbox", "--path", "--plaintext", "tags.Purpose=Qredo apiKey -sandbox-"],
    ])("lets %s … through", (...argv) => {
        expect(refused(argv)).toBeUndefined();
    });
});

describe("npm run pulumi: commands that encrypt a stack's secrets with the passphrase", () => {
    it("finds them wherever the command words are, with every spelling of --create", () => {
        const local = "file:///state";
        expect(passphraseTarget(["stack", "init", "sandbox"], local)).toEqual({ stack: "sandbox", kind: "new" });
        expect(passphraseTarget(["-v", "9", "stack", "init", "a1"], local)).toEqual({ stack: "a1", kind: "new" });
        expect(passphraseTarget(["--tracing", "file:/x", "stack", "init", "--stack", "a2"], local)).toEqual({ stack: "a2", kind: "new" });
        for (const create of ["--create", "-c", "--create=true", "--create=1", "-c=true", "-cs"]) {
            expect(passphraseTarget(["stack", "select", create, "foo"], local), create).toMatchObject({ kind: "new" });
        }
        for (const off of ["--create=false", "--create=f", "--create=0", "-c=false"]) {
            expect(passphraseTarget(["stack", "select", off, "foo"], local), off).toBeUndefined();
        }
        expect(passphraseTarget(["stack", "select", "-C", "dir", "foo"], local)).toBeUndefined(); // -C is --cwd
        expect(passphraseTarget(["stack", "select", "foo"], local)).toBeUndefined();
        expect(passphraseTarget(["new", "typescript", "--stack", "a6", "--yes"], local)).toEqual({ stack: "a6", kind: "new" });
        expect(passphraseTarget(["stack", "change-secrets-provider", "--stack", "prod", "passphrase"], local)).toEqual({
            stack: "prod",
            kind: "change",
        });
        // another secrets provider, or Pulumi Cloud's default: no passphrase
        expect(passphraseTarget(["stack", "init", "x", "--secrets-provider", "awskms://alias/k"], local)).toBeUndefined();
        expect(passphraseTarget(["stack", "init", "x"], "https://api.pulumi.com")).toBeUndefined();
        expect(passphraseTarget(["stack", "change-secrets-provider", "awskms://alias/k"], local)).toBeUndefined();
        expect(passphraseTarget(["up", "--stack", "sandbox"], local)).toBeUndefined();
        // "default" is a passphrase on a self-managed backend; a stack named "stack" hides nothing
        expect(passphraseTarget(["stack", "change-secrets-provider", "default"], local)).toMatchObject({ kind: "change" });
        expect(passphraseTarget(["stack", "change-secrets-provider", "default"], "https://api.pulumi.com")).toBeUndefined();
        expect(passphraseTarget(["-s", "stack", "stack", "init"], local)).toEqual({ stack: "stack", kind: "new" });
    });

    it("commandWords: the command word, past global flags and their values, then the words after it", () => {
        const commandOf = (argv: string[]) => commandWords(argv)[0];
        expect(commandOf(["up", "--stack", "sandbox"])).toBe("up");
        expect(commandOf(["-v", "9", "update"])).toBe("update");
        expect(commandOf(["--color", "always", "--cwd", "elsewhere", "up"])).toBe("up");
        expect(commandOf(["--color=always", "-C", "x", "watch"])).toBe("watch");
        expect(commandOf(["--non-interactive", "preview", "--stack", "up"])).toBe("preview");
        expect(commandOf(["config", "set", "--stack", "sandbox", "tags.Stage", "up"])).toBe("config");
        expect(commandOf(["--help"])).toBeUndefined();
        // A flag before the command takes the next word as its value, unless it is a global switch.
        expect(commandOf(["--stack", "sandbox", "up"])).toBe("up");
        expect(commandOf(["-s", "sandbox", "up", "--yes"])).toBe("up");
        expect(commandOf(["--yes", "--stack", "sandbox", "update"])).toBe("sandbox"); // --yes takes --stack: pulumi finds no command either
        expect(commandOf(["-e", "-Q", "--non-interactive", "watch"])).toBe("watch");
        expect(commandOf(["-sfoo", "up"])).toBe("up");
        expect(commandOf(["--", "up"])).toBeUndefined();
        expect(commandWords(["-s", "sandbox", "stack", "output", "--json", "publicKeyPem"])).toEqual(["stack", "output", "publicKeyPem"]);
        expect(commandWords(["--color", "never", "deployment", "run", "update"])).toEqual(["deployment", "run", "update"]);
    });
    it("refuses an empty passphrase for each, in words that fit: a stack never deployed is removed, not recreated", async () => {
        vi.stubEnv("PULUMI_CONFIG_PASSPHRASE", "");
        await expect(passphraseEnv({ stack: "sandbox", newStack: false, neverDeployed: true, code: 2 })).rejects.toThrow(
            "PULUMI_CONFIG_PASSPHRASE is set but empty: stack sandbox has never been deployed, and its secrets, its private key among them, would be encrypted with an empty passphrase, which protects nothing. It holds nothing yet: remove it, keeping its stack file and settings (npm run pulumi -- stack rm --preserve-config sandbox; without that flag pulumi deletes stacks/Pulumi.sandbox.yaml), delete the encryptionsalt line from that file (it belongs to the empty passphrase), then deploy it again with a passphrase set,",
        );
        // a first deploy whose up did not finish left the key in the stack file: stack rm would lose it
        await expect(passphraseEnv({ stack: "sandbox", newStack: false, neverDeployed: true, holdsKey: true, code: 2 })).rejects.toThrow(
            "Its stack file already holds the API key, encrypted with the passphrase the stack was created with: set PULUMI_CONFIG_PASSPHRASE to that passphrase and run again.",
        );
        expect(stackFileHoldsApiKey("config:\n  qredo-partner-keys:apiKey:\n    secure: v1:abc\n")).toBe(true);
        expect(stackFileHoldsApiKey("config:\n  qredo-partner-keys:environment: sandbox\n")).toBe(false);
        await expect(passphraseEnv({ stack: "sandbox", newStack: false, code: 2 })).resolves.toEqual({}); // deployed: its own passphrase
    });
});

describe("API key text", () => {
    const key = "eyJrIjoidiJ9AAAAAAAAAAAA";
    it("decodes UTF-16 LE and BE with a byte-order mark, and drops a UTF-8 byte-order mark", () => {
        expect(decodeText(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(key, "utf16le")]), "f")).toBe(key);
        expect(decodeText(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(key, "utf16le").swap16()]), "f")).toBe(key);
        expect(decodeText(Buffer.from(`\ufeff${key}`, "utf8"), "f")).toBe(key);
    });
    it("says how to convert UTF-16 without a byte-order mark in place, and the command it prints does", () => {
        const dir = mkdtempSync(join(tmpdir(), "utf16-"));
        try {
            const apiKey = makeApiKey();
            writeFileSync(join(dir, "my key"), Buffer.from(`${apiKey}\n`, "utf16le"));
            const read = () => readApiKeyFile(join(dir, "my key"), "--api-key-file 'my key'", "my key");
            const named = (() => {
                try {
                    writeFileSync(join(dir, "it's"), Buffer.from(`${apiKey}\n`, "utf16le"));
                    return readApiKeyFile(join(dir, "it's"), '--api-key-file "it\'s"', "it's");
                } catch (error) {
                    return (error as Error).message;
                } finally {
                    rmSync(join(dir, "it's"));
                }
            })();
            // Each shell its own quoting: POSIX 'it'\''s', PowerShell 'it''s'.
            expect(named).toContain("iconv -f UTF-16LE -t UTF-8 'it'\\''s' > 'it'\\''s.utf8'");
            expect(named).toContain("(PowerShell: (Get-Content -Encoding Unicode 'it''s') | Set-Content -Encoding utf8 'it''s')");
            const message = (() => {
                try {
                    return `read: ${read()}`;
                } catch (error) {
                    return (error as Error).message;
                }
            })();
            expect(message).toContain("it looks like UTF-16 without a byte-order mark. Convert it to UTF-8 in place: ");
            expect(message).not.toContain(apiKey);
            const command = /in place: (.*) \(PowerShell: /.exec(message)?.[1] ?? "";
            expect(command).toBe("iconv -f UTF-16LE -t UTF-8 'my key' > 'my key.utf8' && mv 'my key.utf8' 'my key'");
            execFileSync("sh", ["-c", command], { cwd: dir });
            expect(read().trim()).toBe(apiKey);
            expect(readdirSync(dir)).toEqual(["my key"]); // converted in place: no second file to mistake for it
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
    it("removes one pair of matching quotes only", () => {
        expect(unquote(` "${key}"\n`)).toEqual({ value: key, unquoted: true });
        expect(unquote(`'${key}'`)).toEqual({ value: key, unquoted: true });
        expect(unquote(`"${key}'`)).toEqual({ value: `"${key}'`, unquoted: false });
        expect(unquote(`""${key}""`)).toEqual({ value: `"${key}"`, unquoted: true });
    });
});

describe("an API key pasted where it does not belong", () => {
    // Standard alphabet with "/" in it, as a path segment: the run swallows the separators before it.
    const key = Buffer.from(JSON.stringify({ key: "?>?>?>?>?>?>?>?>?>?>?>?>" })).toString("base64");
    it("is found alone, quoted, after name=, and inside a URL path, in either alphabet", () => {
        expect(key).toContain("/");
        for (const value of [
            key,
            `"${key}"`,
            `apiKey=${key}`,
            `https://api.qredo.network/api/v1/p/${key}/`,
            Buffer.from(key, "base64").toString("base64url"),
        ]) {
            expect(looksLikeApiKey(value), value).toBe(true);
        }
        expect(looksLikeApiKey("https://api.qredo.network/api/v1/p")).toBe(false);
        expect(looksLikeApiKey("qredo-partner-keys-production-eu-west-2")).toBe(false);
    });
    it("as a stack file's environment, is refused without being repeated", () => {
        const project = mkdtempSync(join(dir, "project-"));
        fs.mkdirSync(join(project, "stacks"));
        writeFileSync(join(project, "stacks", "Pulumi.keyed.yaml"), `config:\n  qredo-partner-keys:environment: ${key}\n`);
        expect(() => stackEnvironment("keyed", project)).toThrow(
            "stacks/Pulumi.keyed.yaml sets qredo-partner-keys:environment to a value that looks like an API key (not shown); it must be sandbox or production.",
        );
    });
});

describe("js-yaml 5, as the project has it installed", () => {
    it("is the project's, and none when it is missing, older or half installed (its package.json without the code)", () => {
        expect(installedYaml(join(__dirname, ".."))?.mergeTag).toBeDefined();
        for (const [name, manifest] of [
            ["missing", undefined],
            ["older", { name: "js-yaml", version: "4.3.2", main: "index.js" }],
            ["half", { name: "js-yaml", version: "5.5.0", main: "dist/js-yaml.cjs.js" }],
        ] as const) {
            const project = mkdtempSync(join(dir, `yaml-${name}-`));
            if (manifest !== undefined) {
                fs.mkdirSync(join(project, "node_modules", "js-yaml"), { recursive: true });
                writeFileSync(join(project, "node_modules", "js-yaml", "package.json"), JSON.stringify(manifest));
            }
            expect(installedYaml(project), name).toBeUndefined();
        }
    });
});

describe("a stack file's plain lines, read before js-yaml is installed", () => {
    it("are looked for in time in proportion to the file, whatever its blank lines", () => {
        // A pattern whose indentation could run across newlines tried every blank line against all those after it:
        // 1.4 s for 40,000 of them, four times that for each doubling. Read line by line, 200,000 take milliseconds.
        const blank = "\n".repeat(200_000);
        const project = mkdtempSync(join(dir, "blank-lines-"));
        fs.mkdirSync(join(project, "stacks"));
        writeFileSync(join(project, "stacks", "Pulumi.sandbox.yaml"), `config:${blank}  other: 1\n`);
        const started = Date.now();
        expect(stackFileHoldsApiKey(`config:${blank}  other: 1\n`)).toBe(false);
        // No node_modules in the project: its environment, and the region suggested for another stack, are read from lines.
        expect(stackEnvironment("sandbox", project)).toBe("sandbox");
        expect(() => stackEnvironment("custom", project)).toThrow(
            "say which environment it holds, with secret names of its own, then run again",
        );
        expect(Date.now() - started).toBeLessThan(2_000);
        writeFileSync(join(project, "stacks", "Pulumi.sandbox.yaml"), `config:${blank}  aws:region: eu-west-2\n`);
        expect(() => stackEnvironment("custom", project)).toThrow("printf 'config:\\n  aws:region: eu-west-2\\n");
    });
});

describe("the older spelling of the environment setting", () => {
    it("is refused, in a new stack's file too, before the dependencies are installed or after", () => {
        const project = mkdtempSync(join(tmpdir(), "older-spelling-"));
        try {
            fs.mkdirSync(join(project, "stacks"));
            for (const line of [
                "  qredo-partner-keys:config:environment: production",
                '  "qredo-partner-keys:config:environment": production',
            ]) {
                writeFileSync(join(project, "stacks", "Pulumi.sandbox.yaml"), `config:\n  aws:region: eu-west-2\n${line}\n`);
                expect(() => stackEnvironment("sandbox", project)).toThrow(
                    "stacks/Pulumi.sandbox.yaml sets the environment as qredo-partner-keys:config:environment, an older spelling that pulumi reads and this deploy does not; nothing was changed.",
                );
            }
            writeFileSync(join(project, "stacks", "Pulumi.sandbox.yaml"), "config:\n  qredo-partner-keys:environment: sandbox\n");
            expect(stackEnvironment("sandbox", project)).toBe("sandbox");
        } finally {
            rmSync(project, { recursive: true, force: true });
        }
    });
});

describe("a stack of its own", () => {
    it("is given a stack file, by the printf it prints, that the deploy and the program accept, with secret names of its own", () => {
        const project = mkdtempSync(join(tmpdir(), "own-stack-"));
        try {
            fs.mkdirSync(join(project, "stacks"));
            writeFileSync(join(project, "stacks", "Pulumi.sandbox.yaml"), "config:\n  aws:region: eu-west-2\n");
            const message = (() => {
                try {
                    return `read: ${stackEnvironment("staging", project)}`;
                } catch (error) {
                    return (error as Error).message;
                }
            })();
            const command = /\n {4}(printf .*) {4}# or production$/.exec(message)?.[1] ?? "";
            expect(command).toMatch(/^printf 'config:.*' > stacks\/Pulumi\.staging\.yaml$/);
            execFileSync("sh", ["-c", command], { cwd: project });
            expect(stackEnvironment("staging", project)).toBe("sandbox");
            const text = readFileSync(join(project, "stacks", "Pulumi.staging.yaml"), "utf8");
            const prefix = /^ {2}qredo-partner-keys:secretNamePrefix: (.*)$/m.exec(text)?.[1] ?? "";
            expect(prefix).not.toBe("qredo/partner-api");
            expect(parseSecretNamePrefix(prefix, { stack: "staging", secret: false })).toEqual({ ok: true, value: prefix });
            // A file that names its prefix already is not told to add another.
            writeFileSync(join(project, "stacks", "Pulumi.qa.yaml"), "config:\n  qredo-partner-keys:secretNamePrefix: team/qa\n");
            expect(() => stackEnvironment("qa", project)).toThrow(
                /add this line to stacks\/Pulumi\.qa\.yaml .*\n {4}qredo-partner-keys:environment: sandbox {4}# or production$/,
            );
        } finally {
            rmSync(project, { recursive: true, force: true });
        }
    });
});

describe("options", () => {
    it("answers pulumi's --stack NAME (or -s, or --stack=NAME) with the command that names the stack first", () => {
        for (const [argv, fixed] of [
            [["--stack", "sandbox", "--rotate"], "npm run deploy -- sandbox --rotate"],
            [["--rotate", "--stack=production"], "npm run deploy -- production --rotate"],
            [["-s", "sandbox", "--public-key-out", "my key.pem"], "npm run deploy -- sandbox --public-key-out 'my key.pem'"],
            [["--stack=sandbox", "--public-key-out=-x.pem"], "npm run deploy -- sandbox --public-key-out=-x.pem"], // pastes back as one word
        ]) {
            expect(() => parseOptions(argv as string[], {}), String(argv)).toThrow(
                `unknown option ${String(argv).includes("-s,") ? "-s" : "--stack"}: the stack is the first word, without it:\n    ${fixed as string}\n`,
            );
        }
        // Not when it is not the whole story: no command is guessed, no other argument is repeated, and no other
        // option is offered (-s is not --yes).
        for (const argv of [
            ["--stack"],
            ["sandbox", "--stack", "production"],
            ["--stack", "sandbox", "--stack", "production"],
            ["--stack", "org/project/sandbox"],
            ["--stack", "..", "--rotate"],
            ["--stack", "sandbox", "PULUMI_CONFIG_PASSPHRASE=hunter2"],
            ["sandbox", "-s", "production"],
            ["-s", "sandbox", "-y"],
        ]) {
            const flag = argv.includes("-s") ? "-s" : "--stack";
            expect(() => parseOptions(argv, {}), String(argv)).toThrow(
                new RegExp(`^unknown option ${flag}: the stack is the first word \\(the usage is below\\)\\.\\n\\nusage:`),
            );
        }
    });
    it("suggests the environment a near-miss stack name meant", () => {
        expect(
            ["prod", "Production", "PROD", "sandbx", "Sandbox", "sand", "production-eu", "staging", "dev", "prd", "SBX"].map(suggestStack),
        ).toEqual([
            "production",
            "production",
            "production",
            "sandbox",
            "sandbox",
            "sandbox",
            "production",
            undefined,
            undefined,
            "production",
            "sandbox",
        ]);
    });
    it("refuses every flag npm took for itself, unless it also arrived after --", () => {
        expect(() =>
            parseOptions(["sandbox"], {
                npm_lifecycle_event: "deploy",
                npm_config_replace_api_key: "true",
                npm_config_api_key_file: "true",
            }),
        ).toThrow(
            "npm kept --api-key-file --replace-api-key for itself (it set npm_config_api_key_file, npm_config_replace_api_key), so this script never saw them. Put -- before the options:\n    npm run deploy -- sandbox --api-key-file PATH --replace-api-key",
        );
        expect(parseOptions(["sandbox", "--yes"], { npm_lifecycle_event: "deploy", npm_config_yes: "true" })?.yes).toBe(true);
    });
    it("refuses npm's own --dry-run under npm run deploy (npm still runs the script), and points to a preview", () => {
        expect(() => parseOptions(["sandbox"], { npm_lifecycle_event: "deploy", npm_config_dry_run: "true" })).toThrow(
            "npm took --dry-run for itself (it set npm_config_dry_run) and still ran this script, which has no dry run; nothing was changed. Without --yes, the deploy shows pulumi up's preview and asks before it changes anything. To only preview:\n    npm run pulumi -- preview --stack sandbox",
        );
        expect(parseOptions(["sandbox"], { npm_lifecycle_event: "deploy", npm_config_dry_run: "" })?.stack).toBe("sandbox");
        expect(parseOptions(["sandbox"], { npm_config_dry_run: "true" })?.stack).toBe("sandbox"); // run directly: not npm's
    });
    it("npm run pulumi: refuses pulumi flags npm took (--secret would store a value in plain text), never repeating an argument", () => {
        const key = makeApiKey();
        const refuse = (argv: string[], env: Record<string, string>) => {
            try {
                refuseSwallowedPulumiFlags(argv, { npm_lifecycle_event: "pulumi", ...env }, 2);
            } catch (error) {
                return error as Error & { code: number };
            }
            return undefined;
        };
        const secret = refuse(["config", "set", "apiKey", key], { npm_config_secret: "true", npm_config_stack: "true" });
        expect(secret?.code).toBe(2);
        expect(secret?.message).toContain(
            "npm kept --stack --secret for itself (it set npm_config_stack, npm_config_secret), so pulumi would never see them; nothing was run. Put -- right after npm run pulumi and type the rest as before (--stack, --secret included):\n    npm run pulumi -- config set …",
        );
        expect(secret?.message).toContain("An argument looks like an API key; it is not repeated here.");
        expect(secret?.message).not.toContain(key.slice(0, 16));
        expect(refuse(["stack", "output"], { npm_config_stack: "sandbox" })?.message).toContain("npm kept --stack for itself");
        // npm run pulumi config --stack sandbox: npm took --stack alone, leaving its value where a subcommand would be
        expect(refuse(["config", "sandbox"], { npm_config_stack: "true" })?.message).toMatch(/\n {4}npm run pulumi -- config …$/);
        expect(refuse(["stack", "output", "sandbox"], { npm_config_stack: "true" })?.message).toMatch(
            /\n {4}npm run pulumi -- stack output …$/,
        );
        // npm run pulumi --stack sandbox stack output: npm took --stack alone, leaving its value first
        expect(refuse(["sandbox", "stack", "output"], { npm_config_stack: "true" })?.message).toMatch(
            /\n {4}npm run pulumi -- stack output …$/,
        );
        expect(refuse(["sandbox", "preview"], { npm_config_stack: "true" })?.message).toMatch(/\n {4}npm run pulumi -- preview …$/);
        // after --, npm's variables are not pulumi's flags' fate; npm's own settings (yes, json) are never counted
        expect(refuse(["stack", "output", "--stack", "sandbox"], { npm_config_stack: "true" })).toBeUndefined();
        expect(refuse(["up"], { npm_config_yes: "true", npm_config_json: "true", npm_config_secret: "" })).toBeUndefined();
        expect(refuseSwallowedPulumiFlags(["up"], { npm_config_secret: "true" }, 2)).toBeUndefined(); // run directly
        // npm run pulumi preview --diff --stack sandbox: npm's own diff setting took --stack as its value
        expect(refuse(["preview", "sandbox"], { npm_config_diff: "--stack" })?.message).toContain("npm kept --diff for itself");
        // an .npmrc's node-options is a command line of its own; a value that is not a bare flag is not one npm took
        expect(refuse(["stack", "ls"], { npm_config_node_options: "--max-old-space-size=4096" })).toBeUndefined();
        expect(refuse(["stack", "ls"], { npm_config_node_options: "--inspect" })).toBeUndefined();
        expect(refuse(["stack", "ls"], { npm_config_init_module: "--x=1 y" })).toBeUndefined();
        // settings other tools keep in .npmrc: electron's target, a tag prefix that starts with a dash
        expect(refuse(["stack", "ls"], { npm_config_target: "30.0.0", npm_config_runtime: "electron" })).toBeUndefined();
        expect(refuse(["version"], { npm_config_tag_version_prefix: "-v" })).toBeUndefined();
        expect(refuse(["up", "urn:pulumi:x"], { npm_config_target: "true" })?.message).toContain("npm kept --target");
        expect(refuse(["up"], { npm_config_target: "urn:pulumi:sandbox::p::t::n" })?.message).toContain("npm kept --target");
    });
    it("npm run pulumi: refuses pulumi's one-letter flags that npm reads as its own, and flags npm took with a value", () => {
        const refuse = (argv: string[], env: Record<string, string>) => {
            try {
                refuseSwallowedPulumiFlags(argv, { npm_lifecycle_event: "pulumi", ...env }, 2);
            } catch (error) {
                return (error as Error).message;
            }
            return undefined;
        };
        // npm run pulumi stack output -s sandbox publicKeyPem: npm's -s is loglevel=silent, and "sandbox" is left behind
        expect(refuse(["stack", "output", "sandbox", "publicKeyPem"], { npm_config_loglevel: "silent" })).toBe(
            "npm's log level is silent (from -s, or loglevel=silent in an .npmrc), and `pulumi stack output` names no stack: if -s was meant as pulumi's --stack, npm took it; nothing was run. Name the stack after --:\n    npm run pulumi -- stack output --stack sandbox …",
        );
        expect(refuse(["preview", "-c", "x"], { npm_config_loglevel: "silent", npm_config_t: "true" })).toContain(
            "npm kept -s (--stack) -t (--target) for itself (it set npm_config_loglevel=silent, npm_config_t=…), so pulumi would never see them; nothing was run. Put -- right after npm run pulumi and type the rest as before (--stack, --target included):\n    npm run pulumi -- preview …",
        );
        // npm up --replace URN: npm expands --replace to its replace-registry-host setting
        expect(refuse(["up"], { npm_config_replace_registry_host: "urn:pulumi:sandbox::qredo-partner-keys::x" })).toContain(
            "npm kept --replace for itself (it set npm_config_replace_registry_host=…)",
        );
        expect(refuse(["up"], { npm_config_replace_registry_host: "npmjs" })).toBeUndefined();
        expect(refuse(["up"], { npm_config_replace_registry_host: "registry.example.com" })).toBeUndefined();
        // npm's -s before the script, with the stack named after --, or for a command on no stack: fine
        expect(refuse(["stack", "output", "--stack", "sandbox", "publicKeyPem"], { npm_config_loglevel: "silent" })).toBeUndefined();
        expect(refuse(["stack", "ls"], { npm_config_loglevel: "silent" })).toBeUndefined();
        for (const named of ["-ssandbox", "-s=sandbox", "--stack=sandbox"]) {
            expect(refuse(["up", named], { npm_config_loglevel: "silent" }), named).toBeUndefined();
        }
        expect(refuse(["version"], { npm_config_loglevel: "silent" })).toBeUndefined();
        // -c key=value is npm's --call; its value may be a secret and is not repeated
        const config = refuse(["up"], { npm_config_call: "qredo-partner-keys:apiKey=hunter2" });
        expect(config).toContain("npm kept -c (--config) for itself (it set npm_config_call=…)");
        expect(config).not.toContain("hunter2");
        expect(refuse(["up", "urn:pulumi:x"], { npm_config_t: "true" })).toContain("-t (--target)");
        expect(refuse(["up", "./policies"], { npm_config_policy_pack: "true" })).toContain("npm kept --policy-pack");
        expect(refuse(["stack", "import", "state.json"], { npm_config_file: "true" })).toContain("npm kept --file");
        expect(refuse(["up"], { npm_config_secret: "1" })).toContain("npm kept --secret"); // --secret=1
        expect(refuse(["up"], { npm_config_secret: "false" })).toBeUndefined();
        expect(refuse(["refresh"], { npm_config_run_program: "true" })).toContain("npm kept --run-program");
        expect(refuse(["preview"], { npm_config_r: "true" })).toContain("-r (--refresh)");
        expect(refuse(["stack", "init", "x"], { npm_config_select: "" })).toContain("--no-select");
        expect(refuse(["stack", "select", "newstack"], { npm_config_create: "true" })).toContain("npm kept --create");
    });
    it("deploy and verify: a boolean flag npm took as --flag=1 counts, --flag=false does not", () => {
        expect(() => parseOptions(["sandbox"], { npm_lifecycle_event: "deploy", npm_config_rotate: "1" })).toThrow(
            "npm kept --rotate for itself",
        );
        expect(parseOptions(["sandbox"], { npm_lifecycle_event: "deploy", npm_config_rotate: "false" })?.rotate).toBeFalsy();
        // npm took --api-key-file KEY: it echoed the key; the refusal says so and does not repeat it
        const key = makeApiKey();
        expect(() => parseOptions(["sandbox"], { npm_lifecycle_event: "deploy", npm_config_api_key_file: key })).toThrow(
            "An argument looks like an API key; it is not repeated here.",
        );
        try {
            parseOptions(["sandbox"], { npm_lifecycle_event: "deploy", npm_config_api_key_file: key });
        } catch (error) {
            expect((error as Error).message).not.toContain(key.slice(0, 16));
        }
    });
});

describe("shownBackend: a backend URL as messages show it", () => {
    it.each([
        ["postgres://pulumi:S3cret@db:5432/state", "postgres://***@db:5432/state"],
        ["postgres://u:p@ss@db/state", "postgres://***@db/state"], // an unescaped "@" in the password
        ["postgres://u:pa?ss@db/state", "postgres://***@db/state"], // an unescaped "?"
        ["postgres://pulumi:S3cr/3t@db.internal:5432/state", "postgres://***@db.internal:5432/state"], // an unescaped "/"
        ["POSTGRES://S3cr3tTokenUser@db/state", "POSTGRES://***@db/state"], // a token as the user name
        ["azblob://container?sv=2024&sig=S1gnature", "azblob://container (the rest hidden)"],
        ["azblob://state#sig=S3cr3t", "azblob://state (the rest hidden)"],
        ["s3://bucket/prefix", "s3://bucket/prefix"],
        ["file:///home/me@corp/my state", "file:///home/me@corp/my state"], // a path
        ["file://~", "file://~"],
        // However the URL is written: pulumi reads an opaque URL too
        ["postgres:alice:S3cretPw@db.example.com/pulumi", "postgres:***@db.example.com/pulumi"],
        ["postgres:\\\\alice:S3cretPw@db/state", "postgres:\\\\***@db/state"],
        ["azblob:state?sv=2022&sig=SASSECRET", "azblob:state (the rest hidden)"],
        ["  postgres://alice:S3cretPw@db/state\n", "postgres://***@db/state"],
        ["not a url, S3cretPw", "(not shown: PULUMI_BACKEND_URL is not a URL)"],
    ])("%s is shown as %s", (url, shown) => {
        expect(shownBackend(url)).toBe(shown);
    });
});

describe("planKeyChange", () => {
    const plan = (
        step: "plain" | "rotate" | "rotate-immediate" | "promote",
        configured: [number, "current" | "pending"],
        deployed?: [number, "current" | "pending"],
        replacePending = false,
    ) =>
        planKeyChange({
            stack: "s",
            step,
            replacePending,
            configured: { version: configured[0], stage: configured[1] },
            deployed: deployed && { version: deployed[0], stage: deployed[1] },
        });

    it("a plain deploy never changes the key state", () => {
        for (const configured of [
            [1, "current"],
            [2, "pending"],
            [3, "current"],
        ] as const) {
            expect(plan("plain", [...configured], [configured[0], configured[1]])).toBeUndefined();
        }
    });
    it("rotate stages N + 1; immediate makes it current; promote keeps the version", () => {
        expect(plan("rotate", [3, "current"], [3, "current"])).toEqual({ version: 4, stage: "pending" });
        expect(plan("rotate-immediate", [3, "current"], [3, "current"])).toEqual({ version: 4, stage: "current" });
        expect(plan("promote", [4, "pending"], [4, "pending"])).toEqual({ version: 4, stage: "current" });
        expect(plan("rotate", [4, "pending"], [4, "pending"], true)).toEqual({ version: 5, stage: "pending" });
    });
    it("promote re-applies a promotion whose up did not finish, without a config change", () => {
        expect(plan("promote", [4, "current"], [4, "pending"])).toBeUndefined();
    });
    it("refuses to move backwards, whatever the step", () => {
        for (const step of ["plain", "rotate", "rotate-immediate", "promote"] as const) {
            expect(() => plan(step, [2, "current"], [3, "pending"])).toThrow("This copy of the stack file is older than the deployment");
        }
    });
});

describe("child environments", () => {
    const env = {
        PATH: "/bin",
        HOME: "/h",
        QREDO_API_KEY: "k",
        AWS_SECRET_ACCESS_KEY: "s",
        AWS_REGION: "eu-west-2",
        GITHUB_TOKEN: "t",
        PULUMI_CONFIG_PASSPHRASE: "p",
        PULUMI_ACCESS_TOKEN: "a",
        NPM_TOKEN: "n",
    };
    it("npm gets nothing secret; pulumi gets AWS only when asked, and never the Qredo key", () => {
        expect(plainEnv(env)).toEqual({ PATH: "/bin", HOME: "/h" });
        expect(pulumiEnv(env, { aws: false, stackAccess: true })).toEqual({
            PATH: "/bin",
            HOME: "/h",
            PULUMI_CONFIG_PASSPHRASE: "p",
            PULUMI_ACCESS_TOKEN: "a",
        });
        expect(pulumiEnv(env, { aws: true, stackAccess: true })).toEqual({
            PATH: "/bin",
            HOME: "/h",
            PULUMI_CONFIG_PASSPHRASE: "p",
            PULUMI_ACCESS_TOKEN: "a",
            AWS_SECRET_ACCESS_KEY: "s",
            AWS_REGION: "eu-west-2",
        });
    });
});

describe("writeAtomically", () => {
    it("replaces the file in one step, leaving no temporary file", () => {
        const file = join(dir, "ok", "public-sandbox.pem");
        writeAtomically(file, "old\n");
        writeAtomically(file, "new\n");
        expect(readFileSync(file, "utf8")).toBe("new\n");
        expect(readdirSync(join(dir, "ok"))).toEqual(["public-sandbox.pem"]);
    });
    it("leaves the old file whole when the write fails (a full disk)", () => {
        const file = join(dir, "public-production.pem");
        writeFileSync(file, "-----BEGIN PUBLIC KEY-----\nold\n-----END PUBLIC KEY-----\n");
        vi.spyOn(fs, "writeSync").mockImplementation(() => {
            throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        });
        expect(() => writeAtomically(file, "-----BEGIN PUBLIC KEY-----\nnew\n-----END PUBLIC KEY-----\n")).toThrow("ENOSPC");
        expect(readFileSync(file, "utf8")).toBe("-----BEGIN PUBLIC KEY-----\nold\n-----END PUBLIC KEY-----\n");
        expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    });
});

describe("looksLikeApiKey (values never echoed nor passed on)", () => {
    const key = makeApiKey();
    it("spots a key however it was pasted, built or not", () => {
        const standard = Buffer.from(Buffer.from(key, "base64url").toString("latin1"), "latin1").toString("base64");
        for (const pasted of [
            key,
            standard,
            `${key} `,
            `"${key}"`,
            `'${key}'\r`,
            `${key},`,
            `apiKey: ${key}`,
            key.slice(0, -1),
            `${key.slice(0, 50)}\n${key.slice(50)}`,
        ]) {
            expect(looksLikeApiKey(pasted), JSON.stringify(pasted.slice(0, 12))).toBe(true);
        }
    });
    it("lets long names and paths through", () => {
        for (const value of [
            "qredo-partner-keys-sandbox-eu-west-1-staging",
            "/home/runner/work/qredo-partner-keys/qredo-partner-keys/artifacts/public-key-sandbox",
            "awskms://alias/pulumi-qredo?region=eu-west-2",
            "production",
            "public-sandbox.pem",
        ]) {
            expect(looksLikeApiKey(value), value).toBe(false);
        }
    });
});
