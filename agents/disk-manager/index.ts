/**
 * @module agents/disk-manager
 * Turns blank disks into rawx volumes: finds raw, unused block devices, formats them XFS
 * with a label, mounts them by label and lists them for the node (one rawx each).
 */
export * from './plan';
export { runDiskManager, readDiskState, type DiskManagerOptions, type DiskReport, type DiskState } from './manager';
export { run, runOk, listBlockDevices, probeDevice } from './system';
