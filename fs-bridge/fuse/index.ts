/** @module fs-bridge/fuse — the FUSE front end (fuse-native, libfuse2) on the bridge layer. */
export { mountFuse, type FuseMount, type FuseMountOptions } from './fuse-mount';
export { forceUnmount } from './native';
