// ESLint: typescript-eslint for all TypeScript, type-aware for the program and
// the client package, with Pulumi's own rules against an Output inside a
// template literal (it renders as a warning text, not the value). Formatting
// is Prettier's job. The type-aware rules see the program tsc checks
// (tsconfig.json); `npm test` hands ESLint the very program its type check
// built (test/support/check-and-test.js). The tests are type-checked by tsc
// but linted without types: their rules would double the lint's time.
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";
import globals from "globals";

/** The files linted with type information. */
export const typeAwareFiles = ["index.ts", "src/**/*.ts", "client/src/**/*.ts"];

export default tseslint.config(
    { ignores: ["node_modules/", "bin/", "client/dist/", "coverage/", ".pulumi/", ".pulumi-state/"] },
    js.configs.recommended,
    {
        files: ["**/*.ts", "**/*.mts"],
        extends: [tseslint.configs.recommended],
        rules: {
            "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
        },
    },
    {
        files: typeAwareFiles,
        extends: [tseslint.configs.recommendedTypeChecked],
        languageOptions: { parserOptions: { project: "./tsconfig.json", tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-floating-promises": "error",
        },
    },
    {
        // The operator scripts, the bench and the stand-ins are CommonJS, type-checked by tsc (checkJs).
        files: ["**/*.js"],
        extends: [tseslint.configs.recommended],
        languageOptions: { sourceType: "commonjs", globals: globals.node },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
);
