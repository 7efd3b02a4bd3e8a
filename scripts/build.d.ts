export declare function isFresh(): boolean;
export declare function build(): boolean;
