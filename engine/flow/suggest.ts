/** "Did you mean …?" hints: the contract's, shared with the plugin registries. */
export { didYouMean } from '../contract/index.ts';
