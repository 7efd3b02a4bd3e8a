import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultTags, environmentDefaults, environments, isEnvironment, isKeyStage, keyStages } from "../src/environments";

describe("environments", () => {
    it("recognises exactly the two environments and the two key stages, case and spaces included", () => {
        fc.assert(
            fc.property(
                fc.oneof(
                    fc.constantFrom("sandbox", "production", "Sandbox", " production", "prod", "current", "pending", "PENDING"),
                    fc.string(),
                ),
                (s) => {
                    expect(isEnvironment(s)).toBe(s === "sandbox" || s === "production");
                    expect(isKeyStage(s)).toBe(s === "current" || s === "pending");
                },
            ),
        );
        expect([...environments]).toEqual(["sandbox", "production"]);
        expect([...keyStages]).toEqual(["current", "pending"]);
    });

    it("keeps production's secrets longer and protected; sandbox's are quick to throw away", () => {
        expect(environmentDefaults).toEqual({
            production: { recoveryWindowInDays: 30, protect: true },
            sandbox: { recoveryWindowInDays: 7, protect: false },
        });
    });

    it("tags every resource with the project, its environment and the tool, with the same names everywhere", () => {
        expect(defaultTags("sandbox")).toEqual({ Project: "qredo-partner-keys", Environment: "sandbox", ManagedBy: "pulumi" });
        expect(Object.keys(defaultTags("production"))).toEqual(Object.keys(defaultTags("sandbox")));
        expect(defaultTags("production").Environment).toBe("production");
    });
});
