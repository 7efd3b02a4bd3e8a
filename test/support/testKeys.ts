// RSA keys for the tests, made when the suite starts and never written to the
// repository. Generating an RSA-2048 key takes about a third of a second here,
// and most test files need two or three distinct ones: globalSetup makes
// `testKeyCount` of them once, side by side on the thread pool, and every test
// file takes them with testKey(i). Tests that need a key of another size or
// type, or a fresh key on purpose, still generate their own.
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { inject } from "vitest";

declare module "vitest" {
    export interface ProvidedContext {
        /** PKCS#1 PEM private keys, all distinct */
        testKeys: string[];
    }
}

export const testKeyCount = 3;

/** Distinct RSA-2048 private keys as PKCS#1 PEM (for globalSetup). */
export async function generateTestKeys(): Promise<string[]> {
    const generate = promisify(generateKeyPair);
    const pairs = await Promise.all(Array.from({ length: testKeyCount }, () => generate("rsa", { modulusLength: 2048 })));
    return pairs.map(({ privateKey }) => privateKey.export({ type: "pkcs1", format: "pem" }).toString());
}

export interface TestKey {
    readonly privateKey: KeyObject;
    readonly publicKey: KeyObject;
    /** the private key, PKCS#1 PEM */
    readonly pem: string;
    /** the public key, SPKI PEM */
    readonly publicPem: string;
}

/** Test key `i` (0 to testKeyCount - 1): the same in every file, different from the others. */
export function testKey(i: number): TestKey {
    const pem = inject("testKeys")[i];
    if (pem === undefined) {
        throw new Error(`testKey(${i}): there are ${testKeyCount} test keys`);
    }
    const privateKey = createPrivateKey(pem);
    const publicKey = createPublicKey(privateKey);
    return { privateKey, publicKey, pem, publicPem: publicKey.export({ type: "spki", format: "pem" }).toString() };
}
