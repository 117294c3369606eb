/**
 * The declarations the checker reads, collected at build time into one JSON asset of the
 * site (scripts/kernel-declarations.ts) and fetched once by the checker's worker: the
 * `.d.ts` files a cell can reach through its imports and globals, TypeScript's own lib
 * files among them, at virtual paths that keep their package layout.
 */
export interface DeclarationBundle {
  /** The TypeScript version that collected the files (the checker's own). */
  typescript: string;
  /** Each module a cell may import → the virtual path of the `.d.ts` that declares it. */
  modules: Record<string, string>;
  /** Type packages whose globals every cell sees, as tslab sees `@types/node`. */
  types: string[];
  /** Virtual path → text: declaration files, lib files, and trimmed package.json files. */
  files: Record<string, string>;
}
