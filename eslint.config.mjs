// ESLint: typescript-eslint's type-aware rules for the TypeScript sources, and
// Pulumi's own rules against an Output inside a template literal (it renders
// as a warning text, not the value). Formatting is Prettier's job.
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
    { ignores: ["node_modules/", "bin/", "client/dist/", "coverage/"] },
    js.configs.recommended,
    {
        files: ["**/*.ts", "**/*.mts"],
        extends: [tseslint.configs.recommendedTypeChecked],
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-floating-promises": "error",
            "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
        },
    },
    {
        // Tests poke at mocks and parsed JSON: the unsafe-any rules would only add casts.
        files: ["test/**/*.ts"],
        rules: {
            "@typescript-eslint/no-unsafe-assignment": "off",
            "@typescript-eslint/no-unsafe-member-access": "off",
            "@typescript-eslint/no-unsafe-call": "off",
            "@typescript-eslint/no-unsafe-argument": "off",
            "@typescript-eslint/no-unsafe-return": "off",
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
