import { createRepository, type InitOptions, type InitResult } from '../repo/repository/index.js';

export type { InitOptions, InitResult } from '../repo/repository/index.js';

/** Creates `.mvm/` in a workspace: config, HEAD on branch main, empty stores, and a .gitignore entry. */
export function init(opts: InitOptions = {}): InitResult {
  return createRepository(opts);
}
