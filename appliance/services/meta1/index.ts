/** @module services/meta1 — reference (CID) -> linked services, one base per prefix. */
export { chooseReplicaSet, Meta1Service, Meta1ServiceOptions } from './service';
export { Meta1Backend, Meta1BackendOptions, LinkedService, Reference, ServiceChooser, checkCid, checkType } from './backend';
