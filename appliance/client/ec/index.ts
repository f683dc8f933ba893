/** @module client/ec — erasure coding: the Reed-Solomon codecs (native + portable) and the fragment layout. */
export * from './codec';
export * from './layout';
export { gfEncode, gfReconstruct } from './gf256';
