export declare const outDir: string;
export declare function sourceHash(): string;
export declare function isFresh(): boolean;
export declare function build(): boolean;
