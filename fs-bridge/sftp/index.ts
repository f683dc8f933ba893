/** @module fs-bridge/sftp — SFTP and legacy scp on the bridge layer (served by the SSH console). */
export { createFileFront, type FileFront, type FileFrontOptions, type FileSessionInfo } from './file-front';
export { serveSftp, wireAttrsOf, setAttrOf, type SftpSessionOptions, type SftpCounters } from './sftp-session';
export { runScp, parseScpArgs, type ScpChannel, type ScpOptions } from './scp';
export { SFTP_STATUS_OF_CODE, sftpStatusOf } from './status';
export { longName } from './long-name';
export { SftpStatus, OPEN_FLAG, asSftpWire, sendExitStatus, type SftpWire, type WireAttrs, type WireName } from './wire';
